"""Words of the web pages in English, French and Dutch (German falls back to English for staff pages)."""

from __future__ import annotations

LANGUAGES = ("en", "fr", "nl")

CATALOG: dict[str, dict[str, str]] = {
    "title": {"en": "Domain blocking", "fr": "Blocage de domaines", "nl": "Blokkering van domeinen"},
    "login": {"en": "Log in", "fr": "Se connecter", "nl": "Aanmelden"},
    "logout": {"en": "Log out", "fr": "Se déconnecter", "nl": "Afmelden"},
    "username": {"en": "Username", "fr": "Nom d'utilisateur", "nl": "Gebruikersnaam"},
    "password": {"en": "Password", "fr": "Mot de passe", "nl": "Wachtwoord"},
    "submit_name": {"en": "Submit a verified domain", "fr": "Soumettre un domaine vérifié",
                    "nl": "Een geverifieerd domein indienen"},
    "submit_many": {"en": "Submit many names (one per line or CSV)",
                    "fr": "Soumettre plusieurs noms (un par ligne ou CSV)",
                    "nl": "Meerdere namen indienen (één per regel of CSV)"},
    "domain": {"en": "Domain", "fr": "Domaine", "nl": "Domein"},
    "legal_basis": {"en": "Legal basis", "fr": "Base légale", "nl": "Rechtsgrond"},
    "case_number": {"en": "Case number", "fr": "Numéro de dossier", "nl": "Dossiernummer"},
    "evidence_ref": {"en": "Evidence reference", "fr": "Référence de la preuve", "nl": "Referentie van het bewijs"},
    "verified_on": {"en": "Content verified on", "fr": "Contenu vérifié le", "nl": "Inhoud geverifieerd op"},
    "scope": {"en": "Scope", "fr": "Portée", "nl": "Draagwijdte"},
    "court": {"en": "Court", "fr": "Juridiction", "nl": "Rechtbank"},
    "court_date": {"en": "Date of the decision", "fr": "Date de la décision", "nl": "Datum van de beslissing"},
    "court_reference": {"en": "Reference of the decision", "fr": "Référence de la décision",
                        "nl": "Referentie van de beslissing"},
    "note": {"en": "Note", "fr": "Note", "nl": "Opmerking"},
    "send": {"en": "Submit", "fr": "Soumettre", "nl": "Indienen"},
    "my_submissions": {"en": "My submissions", "fr": "Mes soumissions", "nl": "Mijn indieningen"},
    "status": {"en": "Status", "fr": "Statut", "nl": "Status"},
    "flags": {"en": "Warnings", "fr": "Avertissements", "nl": "Waarschuwingen"},
    "withdraw": {"en": "Withdraw", "fr": "Retirer", "nl": "Intrekken"},
    "queue": {"en": "Pending submissions", "fr": "Soumissions en attente", "nl": "Indieningen in behandeling"},
    "approve": {"en": "Approve selected", "fr": "Approuver la sélection", "nl": "Selectie goedkeuren"},
    "reject": {"en": "Reject selected", "fr": "Rejeter la sélection", "nl": "Selectie afwijzen"},
    "reason": {"en": "Reason", "fr": "Motif", "nl": "Reden"},
    "blocked": {"en": "Blocked names", "fr": "Noms bloqués", "nl": "Geblokkeerde namen"},
    "review_due": {"en": "Review due", "fr": "Réexamen le", "nl": "Herziening op"},
    "lift": {"en": "Lift", "fr": "Lever", "nl": "Opheffen"},
    "renew": {"en": "Renew", "fr": "Renouveler", "nl": "Verlengen"},
    "override": {"en": "Override the protected list", "fr": "Déroger à la liste protégée",
                 "nl": "Afwijken van de beschermde lijst"},
    "holds": {"en": "Feed changes held for confirmation", "fr": "Changements du flux en attente de confirmation",
              "nl": "Feedwijzigingen die op bevestiging wachten"},
    "confirm": {"en": "Confirm", "fr": "Confirmer", "nl": "Bevestigen"},
    "search": {"en": "Search a name or a case number", "fr": "Chercher un nom ou un numéro de dossier",
               "nl": "Zoek een naam of een dossiernummer"},
    "timeline": {"en": "Timeline", "fr": "Chronologie", "nl": "Tijdlijn"},
    "chain": {"en": "Audit chain", "fr": "Chaîne d'audit", "nl": "Auditketen"},
    "requisitions": {"en": "Requisitions", "fr": "Réquisitions", "nl": "Vorderingen"},
    "overdue": {"en": "Overdue", "fr": "En retard", "nl": "Achterstallig"},
    "users": {"en": "Accounts", "fr": "Comptes", "nl": "Accounts"},
    "isps": {"en": "Access providers", "fr": "Fournisseurs d'accès", "nl": "Toegangsverstrekkers"},
    "create": {"en": "Create", "fr": "Créer", "nl": "Aanmaken"},
    "disable": {"en": "Disable", "fr": "Désactiver", "nl": "Uitschakelen"},
    "enable": {"en": "Enable", "fr": "Activer", "nl": "Inschakelen"},
    "reset_token": {"en": "New API token", "fr": "Nouveau jeton API", "nl": "Nieuw API-token"},
    "rotate": {"en": "New feed credential", "fr": "Nouvel identifiant de flux", "nl": "Nieuwe feed-sleutel"},
    "shown_once": {"en": "Shown once — copy it now:", "fr": "Affiché une seule fois — copiez-le maintenant :",
                   "nl": "Eenmalig getoond — kopieer het nu:"},
    "done": {"en": "Done.", "fr": "C'est fait.", "nl": "Gedaan."},
    "nothing": {"en": "Nothing here.", "fr": "Rien ici.", "nl": "Niets hier."},
    "feed": {"en": "Feed", "fr": "Flux", "nl": "Feed"},
}


def translator(language: str) -> dict[str, str]:
    """The words in one language (English where a word is missing)."""
    lang = language if language in LANGUAGES else "en"
    return {key: words.get(lang, words["en"]) for key, words in CATALOG.items()}
