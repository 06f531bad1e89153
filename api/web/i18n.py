"""Words of the web pages in English, French, Dutch and German; `translator(lang)` gives one language's words."""

from __future__ import annotations

from blocklist.vocab import LANGUAGE_NAMES, LANGUAGES, LEGAL_BASIS_TITLES

__all__ = ["CATALOG", "LANGUAGES", "LANGUAGE_NAMES", "legal_basis_titles", "t", "translator"]

# key: {language: words}. Words with {placeholders} are filled with str.format by the views.
CATALOG: dict[str, dict[str, str]] = {
    "title": {"en": "Domain blocking", "fr": "Blocage de domaines", "nl": "Blokkering van domeinen",
              "de": "Sperrung von Domains"},
    "skip": {"en": "Skip to the content", "fr": "Aller au contenu", "nl": "Naar de inhoud", "de": "Zum Inhalt"},
    "login": {"en": "Log in", "fr": "Se connecter", "nl": "Aanmelden", "de": "Anmelden"},
    "logout": {"en": "Log out", "fr": "Se déconnecter", "nl": "Afmelden", "de": "Abmelden"},
    "username": {"en": "Username", "fr": "Nom d'utilisateur", "nl": "Gebruikersnaam", "de": "Benutzername"},
    "password": {"en": "Password", "fr": "Mot de passe", "nl": "Wachtwoord", "de": "Passwort"},
    "wrong_login": {"en": "wrong username or password", "fr": "nom d'utilisateur ou mot de passe incorrect",
                    "nl":
                    "verkeerde gebruikersnaam of wachtwoord", "de": "falscher Benutzername oder falsches Passwort"},
    "locked": {"en": "too many failed attempts: this account is locked until {until}",
               "fr": "trop de tentatives échouées : ce compte est bloqué jusqu'à {until}",
               "nl": "te veel mislukte pogingen: deze account is vergrendeld tot {until}",
               "de": "zu viele Fehlversuche: dieses Konto ist bis {until} gesperrt"},
    "language": {"en": "Language", "fr": "Langue", "nl": "Taal", "de": "Sprache"},
    "submit_name": {"en": "Submit a verified domain", "fr": "Soumettre un domaine vérifié",
                    "nl": "Een geverifieerd domein indienen", "de": "Eine geprüfte Domain einreichen"},
    "submit_many": {"en": "Submit many names under one case (one per line, or a CSV file)",
                    "fr": "Soumettre plusieurs noms pour un même dossier (un par ligne, ou un fichier CSV)",
                    "nl": "Meerdere namen indienen voor één dossier (één per regel, of een CSV-bestand)",
                    "de": "Mehrere Namen für ein Verfahren einreichen (einer pro Zeile oder eine CSV-Datei)"},
    "names": {"en": "Names", "fr": "Noms", "nl": "Namen", "de": "Namen"},
    "csv_file": {"en": "or a CSV file (the first column is the name)",
                 "fr": "ou un fichier CSV (la première colonne est le nom)",
                 "nl": "of een CSV-bestand (de eerste kolom is de naam)",
                 "de": "oder eine CSV-Datei (die erste Spalte ist der Name)"},
    "domain": {"en": "Domain", "fr": "Domaine", "nl": "Domein", "de": "Domain"},
    "legal_basis": {"en": "Legal basis", "fr": "Base légale", "nl": "Rechtsgrond", "de": "Rechtsgrundlage"},
    "case_number": {"en": "Case number", "fr": "Numéro de dossier", "nl": "Dossiernummer",
                    "de": "Aktenzeichen"},
    "evidence_ref": {"en": "Evidence reference", "fr": "Référence de la preuve", "nl": "Referentie van het bewijs",
                     "de": "Beweisreferenz"},
    "verified_on": {"en": "Content verified on", "fr": "Contenu vérifié le", "nl": "Inhoud geverifieerd op",
                    "de": "Inhalt geprüft am"},
    "scope": {"en": "Scope", "fr": "Portée", "nl": "Draagwijdte", "de": "Umfang"},
    "scope_domain_and_subdomains": {"en": "the domain and its subdomains", "fr": "le domaine et ses sous-domaines",
                                    "nl": "het domein en zijn subdomeinen", "de": "die Domain und ihre Subdomains"},
    "scope_exact": {"en": "this exact name only", "fr": "ce nom exact uniquement", "nl": "enkel deze exacte naam",
                    "de": "nur genau dieser Name"},
    "court_order_only": {"en": "Court order (only for the legal basis “Court order”)",
                         "fr": "Décision judiciaire (uniquement pour la base « décision judiciaire »)",
                         "nl": "Rechterlijke beslissing (enkel voor de rechtsgrond „rechterlijke beslissing”)",
                         "de": "Gerichtliche Entscheidung (nur für die Rechtsgrundlage „gerichtliche Entscheidung“)"},
    "court": {"en": "Court", "fr": "Juridiction", "nl": "Rechtbank", "de": "Gericht"},
    "court_date": {"en": "Date of the decision", "fr": "Date de la décision", "nl": "Datum van de beslissing",
                   "de": "Datum der Entscheidung"},
    "court_reference": {"en": "Reference of the decision", "fr": "Référence de la décision",
                        "nl": "Referentie van de beslissing", "de": "Aktenzeichen der Entscheidung"},
    "note": {"en": "Note", "fr": "Note", "nl": "Opmerking", "de": "Anmerkung"},
    "send": {"en": "Submit", "fr": "Soumettre", "nl": "Indienen", "de": "Einreichen"},
    "my_submissions": {"en": "My submissions", "fr": "Mes soumissions", "nl": "Mijn indieningen",
                       "de": "Meine Einreichungen"},
    "status": {"en": "Status", "fr": "Statut", "nl": "Status", "de": "Status"},
    "status_submitted": {"en": "pending", "fr": "en attente", "nl": "in behandeling", "de": "offen"},
    "status_approved": {"en": "blocked", "fr": "bloqué", "nl": "geblokkeerd", "de": "gesperrt"},
    "status_rejected": {"en": "rejected", "fr": "rejeté", "nl": "afgewezen", "de": "abgelehnt"},
    "status_withdrawn": {"en": "withdrawn", "fr": "retiré", "nl": "ingetrokken", "de": "zurückgezogen"},
    "status_lifted": {"en": "lifted", "fr": "levé", "nl": "opgeheven", "de": "aufgehoben"},
    "flags": {"en": "Warnings", "fr": "Avertissements", "nl": "Waarschuwingen", "de": "Warnungen"},
    "flag_platform_host": {"en": "platform or shared host: many unrelated sites may live under it",
                           "fr": "plateforme ou hébergement partagé : de nombreux sites sans lien peuvent en dépendre",
                           "nl": "platform of gedeelde hosting: veel losstaande sites kunnen eronder vallen",
                           "de": "Plattform oder Shared Hosting: viele fremde Websites können darunter liegen"},
    "flag_homograph": {"en": "homograph: mixes scripts and may imitate another name",
                       "fr": "homographe : mélange d'écritures, peut imiter un autre nom",
                       "nl": "homograaf: mengt schriften en kan een andere naam nabootsen",
                       "de": "Homograph: mischt Schriften und kann einen anderen Namen nachahmen"},
    "flag_protected_override": {"en": "protected name, allowed by a magistrate's override",
                                "fr": "nom protégé, autorisé par une dérogation d'un magistrat",
                                "nl": "beschermde naam, toegelaten door een afwijking van een magistraat",
                                "de": "geschützter Name, durch eine Ausnahme eines Staatsanwalts zugelassen"},
    "flag_idn": {"en": "internationalised name (shown in Unicode and as A-label)",
                 "fr": "nom internationalisé (montré en Unicode et en A-label)",
                 "nl": "geïnternationaliseerde naam (getoond in Unicode en als A-label)",
                 "de": "internationalisierter Name (in Unicode und als A-Label gezeigt)"},
    "typed": {"en": "typed", "fr": "saisi", "nl": "ingevoerd", "de": "eingegeben"},
    "submitted_by": {"en": "submitted by", "fr": "soumis par", "nl": "ingediend door", "de": "eingereicht von"},
    "withdraw": {"en": "Withdraw", "fr": "Retirer", "nl": "Intrekken", "de": "Zurückziehen"},
    "queue": {"en": "Pending submissions", "fr": "Soumissions en attente", "nl": "Indieningen in behandeling",
              "de": "Offene Einreichungen"},
    "select": {"en": "select", "fr": "sélectionner", "nl": "selecteren", "de": "auswählen"},
    "decide_hint": {"en": "Tick one or several submissions. Approving several makes one blocking order.",
                    "fr": "Cochez une ou plusieurs soumissions. En approuver plusieurs crée un seul ordre de blocage.",
                    "nl": "Vink één of meerdere indieningen aan. Meerdere goedkeuren maakt één blokkeringsbevel.",
                    "de": "Eine oder mehrere Einreichungen ankreuzen. Mehrere genehmigen ergibt eine Sperranordnung."},
    "approve": {"en": "Approve selected", "fr": "Approuver la sélection", "nl": "Selectie goedkeuren",
                "de": "Auswahl genehmigen"},
    "reject": {"en": "Reject selected", "fr": "Rejeter la sélection", "nl": "Selectie afwijzen",
               "de": "Auswahl ablehnen"},
    "reason": {"en": "Reason", "fr": "Motif", "nl": "Reden", "de": "Begründung"},
    "reason_reject_hint": {"en": "required to reject", "fr": "obligatoire pour rejeter",
                           "nl": "verplicht om af te wijzen",
                           "de": "für eine Ablehnung erforderlich"},
    "blocked": {"en": "Blocked names", "fr": "Noms bloqués", "nl": "Geblokkeerde namen", "de": "Gesperrte Namen"},
    "due_list": {"en": "Due for review", "fr": "À réexaminer", "nl": "Te herzien", "de": "Zur Überprüfung fällig"},
    "review_due": {"en": "Review due", "fr": "Réexamen le", "nl": "Herziening op", "de": "Überprüfung am"},
    "lift": {"en": "Lift", "fr": "Lever", "nl": "Opheffen", "de": "Aufheben"},
    "renew": {"en": "Renew", "fr": "Renouveler", "nl": "Verlengen", "de": "Verlängern"},
    "override": {"en": "Override the protected list", "fr": "Déroger à la liste protégée",
                 "nl": "Afwijken van de beschermde lijst", "de": "Ausnahme von der Schutzliste"},
    "override_hint": {"en": "Allows officers to submit this one protected name; the written reason is audited.",
                      "fr": "Permet aux officiers de soumettre ce seul nom protégé ; le motif écrit est audité.",
                      "nl": "Laat agenten toe deze ene beschermde naam in te dienen; de schriftelijke reden wordt "
                            "geaudit.",
                      "de": "Erlaubt Beamten, diesen einen geschützten Namen einzureichen; die schriftliche "
                            "Begründung wird protokolliert."},
    "holds": {"en": "Feed changes held for confirmation", "fr": "Changements du flux en attente de confirmation",
              "nl": "Feedwijzigingen die op bevestiging wachten", "de": "Feed-Änderungen, die auf Bestätigung warten"},
    "confirm": {"en": "Confirm", "fr": "Confirmer", "nl": "Bevestigen", "de": "Bestätigen"},
    "search": {"en": "Search a name or a case number", "fr": "Chercher un nom ou un numéro de dossier",
               "nl": "Zoek een naam of een dossiernummer", "de": "Einen Namen oder ein Aktenzeichen suchen"},
    "search_button": {"en": "Search", "fr": "Chercher", "nl": "Zoeken", "de": "Suchen"},
    "timeline": {"en": "Timeline", "fr": "Chronologie", "nl": "Tijdlijn", "de": "Zeitleiste"},
    "chain": {"en": "Audit chain", "fr": "Chaîne d'audit", "nl": "Auditketen", "de": "Prüfkette"},
    "chain_checked": {"en": "checked", "fr": "vérifiée le", "nl": "gecontroleerd op", "de": "geprüft am"},
    "chain_verify": {"en": "verify again now", "fr": "vérifier à nouveau", "nl": "nu opnieuw controleren",
                     "de": "jetzt erneut prüfen"},
    "seq": {"en": "No.", "fr": "N°", "nl": "Nr.", "de": "Nr."},
    "time_utc": {"en": "Time (UTC)", "fr": "Heure (UTC)", "nl": "Tijd (UTC)", "de": "Zeit (UTC)"},
    "actor": {"en": "By", "fr": "Par", "nl": "Door", "de": "Von"},
    "action": {"en": "Event", "fr": "Événement", "nl": "Gebeurtenis", "de": "Ereignis"},
    "details": {"en": "Details", "fr": "Détails", "nl": "Details", "de": "Details"},
    "requisitions": {"en": "Requisitions", "fr": "Réquisitions", "nl": "Vorderingen", "de": "Anordnungen"},
    "overdue": {"en": "Overdue", "fr": "En retard", "nl": "Achterstallig", "de": "Überfällig"},
    "compliance": {"en": "Compliance", "fr": "Conformité", "nl": "Naleving", "de": "Umsetzung"},
    "users": {"en": "Accounts", "fr": "Comptes", "nl": "Accounts", "de": "Konten"},
    "role": {"en": "Role", "fr": "Rôle", "nl": "Rol", "de": "Rolle"},
    "display_name": {"en": "Full name", "fr": "Nom complet", "nl": "Volledige naam", "de": "Vollständiger Name"},
    "new_password": {"en": "New password (at least 10 characters)", "fr": "Nouveau mot de passe (au moins 10 "
                     "caractères)", "nl": "Nieuw wachtwoord (minstens 10 tekens)",
                     "de": "Neues Passwort (mindestens 10 Zeichen)"},
    "password_optional": {"en": "Password (optional, at least 10 characters)",
                          "fr": "Mot de passe (facultatif, au moins 10 caractères)",
                          "nl": "Wachtwoord (optioneel, minstens 10 tekens)",
                          "de": "Passwort (optional, mindestens 10 Zeichen)"},
    "active": {"en": "active", "fr": "actif", "nl": "actief", "de": "aktiv"},
    "inactive": {"en": "disabled", "fr": "désactivé", "nl": "uitgeschakeld", "de": "deaktiviert"},
    "isps": {"en": "Access providers", "fr": "Fournisseurs d'accès", "nl": "Toegangsverstrekkers",
             "de": "Zugangsanbieter"},
    "name": {"en": "Name", "fr": "Nom", "nl": "Naam", "de": "Name"},
    "email": {"en": "E-mail", "fr": "E-mail", "nl": "E-mail", "de": "E-Mail"},
    "resolvers": {"en": "Resolvers (IP[:PORT], separated by spaces)",
                  "fr": "Résolveurs (IP[:PORT], séparés par des espaces)",
                  "nl": "Resolvers (IP[:PORT], gescheiden door spaties)",
                  "de": "Resolver (IP[:PORT], durch Leerzeichen getrennt)"},
    "policy": {"en": "Blocking answer", "fr": "Réponse de blocage", "nl": "Blokkeringsantwoord",
               "de": "Sperrantwort"},
    "create": {"en": "Create", "fr": "Créer", "nl": "Aanmaken", "de": "Anlegen"},
    "disable": {"en": "Disable", "fr": "Désactiver", "nl": "Uitschakelen", "de": "Deaktivieren"},
    "enable": {"en": "Enable", "fr": "Activer", "nl": "Inschakelen", "de": "Aktivieren"},
    "reset_token": {"en": "New API token", "fr": "Nouveau jeton API", "nl": "Nieuw API-token",
                    "de": "Neues API-Token"},
    "rotate": {"en": "New feed credential", "fr": "Nouvel identifiant de flux", "nl": "Nieuwe feed-sleutel",
               "de": "Neuer Feed-Schlüssel"},
    "shown_once": {"en": "Shown once — copy it now:", "fr": "Affiché une seule fois — copiez-le maintenant :",
                   "nl": "Eenmalig getoond — kopieer het nu:", "de": "Nur einmal angezeigt — jetzt kopieren:"},
    "nothing": {"en": "Nothing here.", "fr": "Rien ici.", "nl": "Niets hier.", "de": "Nichts vorhanden."},
    "feed": {"en": "Feed", "fr": "Flux", "nl": "Feed", "de": "Feed"},
    "serial_applied": {"en": "Serial applied", "fr": "Numéro appliqué", "nl": "Toegepast serienummer",
                       "de": "Angewandte Seriennummer"},
    "behind": {"en": "Versions behind", "fr": "Versions de retard", "nl": "Versies achter",
               "de": "Versionen im Rückstand"},
    "result": {"en": "Result", "fr": "Résultat", "nl": "Resultaat", "de": "Ergebnis"},
    "accepted": {"en": "accepted", "fr": "accepté", "nl": "aanvaard", "de": "angenommen"},
    "refused": {"en": "refused", "fr": "refusé", "nl": "geweigerd", "de": "abgelehnt"},
    "error": {"en": "Error", "fr": "Erreur", "nl": "Fout", "de": "Fehler"},
    # Messages after an action.
    "msg_submitted": {"en": "#{id} {name} submitted", "fr": "#{id} {name} soumis", "nl": "#{id} {name} ingediend",
                      "de": "#{id} {name} eingereicht"},
    "msg_bulk": {"en": "{accepted} submitted, {refused} refused", "fr": "{accepted} soumis, {refused} refusés",
                 "nl": "{accepted} ingediend, {refused} geweigerd",
                 "de": "{accepted} eingereicht, {refused} abgelehnt"},
    "msg_no_names": {"en": "no names given", "fr": "aucun nom donné", "nl": "geen namen opgegeven",
                     "de": "keine Namen angegeben"},
    "msg_too_many": {"en": "{count} names: at most {limit} at once", "fr": "{count} noms : au plus {limit} à la fois",
                     "nl": "{count} namen: hoogstens {limit} tegelijk",
                     "de": "{count} Namen: höchstens {limit} auf einmal"},
    "msg_withdrawn": {"en": "#{id} withdrawn", "fr": "#{id} retiré", "nl": "#{id} ingetrokken",
                      "de": "#{id} zurückgezogen"},
    "msg_approved": {"en": "approved {count} as order #{order}", "fr": "{count} approuvé(s) dans l'ordre #{order}",
                     "nl": "{count} goedgekeurd in bevel #{order}", "de": "{count} genehmigt als Anordnung #{order}"},
    "msg_rejected": {"en": "rejected {count}", "fr": "{count} rejeté(s)", "nl": "{count} afgewezen",
                     "de": "{count} abgelehnt"},
    "msg_select": {"en": "select at least one submission", "fr": "sélectionnez au moins une soumission",
                   "nl": "selecteer minstens één indiening", "de": "mindestens eine Einreichung auswählen"},
    "msg_lifted": {"en": "{name}: block lifted", "fr": "{name} : blocage levé", "nl": "{name}: blokkering opgeheven",
                   "de": "{name}: Sperre aufgehoben"},
    "msg_override": {"en": "override #{id} recorded for {name}", "fr": "dérogation #{id} enregistrée pour {name}",
                     "nl": "afwijking #{id} geregistreerd voor {name}", "de": "Ausnahme #{id} für {name} erfasst"},
    "msg_hold": {"en": "feed change #{id} confirmed; it is published with the next build",
                 "fr": "changement du flux #{id} confirmé ; il est publié avec la prochaine version",
                 "nl": "feedwijziging #{id} bevestigd; ze wordt met de volgende versie gepubliceerd",
                 "de": "Feed-Änderung #{id} bestätigt; sie wird mit der nächsten Version veröffentlicht"},
    "c_regression": {"en": "{isp}: {name} was blocked and is no longer",
                     "fr": "{isp} : {name} était bloqué et ne l'est plus",
                     "nl": "{isp}: {name} was geblokkeerd en is het niet meer",
                     "de": "{isp}: {name} war gesperrt und ist es nicht mehr"},
    "c_latest": {"en": "Latest round per access provider", "fr": "Dernier tour par fournisseur",
                 "nl": "Laatste ronde per provider", "de": "Letzte Runde je Anbieter"},
    "c_checked": {"en": "names checked", "fr": "noms vérifiés", "nl": "gecontroleerde namen", "de": "geprüfte Namen"},
    "c_blocked": {"en": "blocked", "fr": "bloqués", "nl": "geblokkeerd", "de": "gesperrt"},
    "c_share": {"en": "share blocked", "fr": "part bloquée", "nl": "aandeel geblokkeerd", "de": "Anteil gesperrt"},
    "c_not_blocked": {"en": "not blocked", "fr": "non bloqués", "nl": "niet geblokkeerd", "de": "nicht gesperrt"},
    "c_by_round": {"en": "Share blocked per access provider and round",
                   "fr": "Part bloquée par fournisseur et par tour",
                   "nl": "Aandeel geblokkeerd per provider en ronde", "de": "Anteil gesperrt je Anbieter und Runde"},
    "c_over_time": {"en": "Over time", "fr": "Dans le temps", "nl": "In de tijd", "de": "Im Zeitverlauf"},
    "c_matrix": {"en": "Names x access providers (latest verdicts)", "fr": "Noms x fournisseurs (derniers verdicts)",
                 "nl": "Namen x providers (laatste oordelen)", "de": "Namen x Anbieter (letzte Ergebnisse)"},
    "c_problems": {"en": "only names not blocked somewhere", "fr": "seulement les noms non bloqués quelque part",
                   "nl": "alleen namen die ergens niet geblokkeerd zijn",
                   "de": "nur irgendwo nicht gesperrte Namen"},
    "c_show": {"en": "Show", "fr": "Afficher", "nl": "Tonen", "de": "Anzeigen"},
    "c_range": {"en": "names {first}-{last} of {total}", "fr": "noms {first} à {last} sur {total}",
                "nl": "namen {first} tot {last} van {total}", "de": "Namen {first} bis {last} von {total}"},
    "c_previous": {"en": "previous", "fr": "précédents", "nl": "vorige", "de": "vorherige"},
    "c_next": {"en": "next", "fr": "suivants", "nl": "volgende", "de": "nächste"},
    "c_after": {"en": "blocked {seconds} s after approval", "fr": "bloqué {seconds} s après l'approbation",
                "nl": "geblokkeerd {seconds} s na goedkeuring", "de": "gesperrt {seconds} s nach Genehmigung"},
    "c_rounds": {"en": "Rounds", "fr": "Tours", "nl": "Rondes", "de": "Runden"},
    "c_round": {"en": "round", "fr": "tour", "nl": "ronde", "de": "Runde"},
    "c_started": {"en": "started (UTC)", "fr": "début (UTC)", "nl": "begin (UTC)", "de": "Beginn (UTC)"},
    "c_serial": {"en": "feed serial", "fr": "version du flux", "nl": "feedversie", "de": "Feed-Version"},
    "c_names": {"en": "names", "fr": "noms", "nl": "namen", "de": "Namen"},
    "c_resolvers": {"en": "resolvers", "fr": "résolveurs", "nl": "resolvers", "de": "Resolver"},
    "c_trigger": {"en": "started by", "fr": "lancé par", "nl": "gestart door", "de": "ausgelöst durch"},
    "c_checks": {"en": "DNS checks of this name", "fr": "Vérifications DNS de ce nom",
                 "nl": "DNS-controles van deze naam", "de": "DNS-Prüfungen dieses Namens"},
    "c_verdict": {"en": "verdict", "fr": "verdict", "nl": "oordeel", "de": "Ergebnis"},
    "c_reason": {"en": "why", "fr": "pourquoi", "nl": "waarom", "de": "warum"},
    "c_evidence": {"en": "evidence", "fr": "preuve", "nl": "bewijs", "de": "Nachweis"},
    "msg_enabled": {"en": "{name}: enabled", "fr": "{name} : activé", "nl": "{name}: ingeschakeld",
                    "de": "{name}: aktiviert"},
    "msg_disabled": {"en": "{name}: disabled", "fr": "{name} : désactivé", "nl": "{name}: uitgeschakeld",
                     "de": "{name}: deaktiviert"},
    "confirm_account": {"en": "Confirm", "fr": "Confirmer", "nl": "Bevestigen", "de": "Bestätigen"},
    "revoke_credentials": {"en": "Revoke credentials", "fr": "Révoquer les accès", "nl": "Toegang intrekken",
                           "de": "Zugang widerrufen"},
    "awaits_confirmation": {"en": "awaits a second administrator", "fr": "attend un second administrateur",
                            "nl": "wacht op een tweede beheerder", "de": "wartet auf einen zweiten Administrator"},
    "msg_account_created": {
        "en": "{name} created. It can do nothing until another administrator confirms it; the person enrols with "
              "a one-time link from the server operator (blocklist user enrol {name}).",
        "fr": "{name} créé. Ce compte ne peut rien faire avant d'être confirmé par un autre administrateur ; la "
              "personne s'inscrit avec un lien à usage unique fourni par l'opérateur du serveur "
              "(blocklist user enrol {name}).",
        "nl": "{name} aangemaakt. Het account kan niets tot een andere beheerder het bevestigt; de persoon schrijft "
              "zich in met een eenmalige link van de serverbeheerder (blocklist user enrol {name}).",
        "de": "{name} angelegt. Das Konto kann nichts tun, bis ein anderer Administrator es bestätigt; die Person "
              "registriert sich mit einem Einmal-Link des Serverbetreibers (blocklist user enrol {name})."},
    "msg_credentials_revoked": {
        "en": "{name}: every token and the password revoked; the account awaits another administrator's "
              "confirmation and the person re-enrols (blocklist user enrol {name}).",
        "fr": "{name} : tous les jetons et le mot de passe révoqués ; le compte attend la confirmation d'un autre "
              "administrateur et la personne se réinscrit (blocklist user enrol {name}).",
        "nl": "{name}: alle tokens en het wachtwoord ingetrokken; het account wacht op bevestiging door een andere "
              "beheerder en de persoon schrijft zich opnieuw in (blocklist user enrol {name}).",
        "de": "{name}: alle Tokens und das Passwort widerrufen; das Konto wartet auf die Bestätigung eines anderen "
              "Administrators, und die Person registriert sich neu (blocklist user enrol {name})."},
    "msg_confirmed": {"en": "{name}: confirmed", "fr": "{name} : confirmé", "nl": "{name}: bevestigd",
                      "de": "{name}: bestätigt"},
    "enrol_title": {"en": "Enrol: choose your password", "fr": "Inscription : choisissez votre mot de passe",
                    "nl": "Inschrijving: kies uw wachtwoord", "de": "Registrierung: Passwort wählen"},
    "enrol_done": {"en": "Your password is set. Your API token (shown once — copy it now):",
                   "fr": "Votre mot de passe est enregistré. Votre jeton API (affiché une seule fois) :",
                   "nl": "Uw wachtwoord is ingesteld. Uw API-token (eenmalig getoond):",
                   "de": "Ihr Passwort ist gesetzt. Ihr API-Token (nur einmal angezeigt):"},
    # The public report form (/report) and the officers' triage queue (/triage).
    "report_title": {"en": "Report a website", "fr": "Signaler un site", "nl": "Een website melden",
                     "de": "Eine Website melden"},
    "report_lead": {
        "en": "Tell us the address of a website where you saw images of child sexual abuse. Give the address only: "
              "never copy or send the material itself.",
        "fr": "Indiquez-nous l'adresse d'un site où vous avez vu des images d'abus sexuels d'enfants. Donnez "
              "uniquement l'adresse : ne copiez ni n'envoyez jamais le contenu lui-même.",
        "nl": "Geef ons het adres van een website waar u beelden van seksueel misbruik van kinderen zag. Geef enkel "
              "het adres: kopieer of verstuur nooit het materiaal zelf.",
        "de": "Nennen Sie uns die Adresse einer Website, auf der Sie Darstellungen sexuellen Kindesmissbrauchs "
              "gesehen haben. Geben Sie nur die Adresse an: kopieren oder senden Sie niemals das Material selbst."},
    "report_address": {"en": "Address seen (for example site.example/page)",
                       "fr": "Adresse vue (par exemple site.example/page)",
                       "nl": "Gezien adres (bijvoorbeeld site.example/pagina)",
                       "de": "Gesehene Adresse (zum Beispiel site.example/seite)"},
    "report_found_at": {"en": "Where you found it (optional)", "fr": "Où vous l'avez trouvée (facultatif)",
                        "nl": "Waar u het vond (optioneel)", "de": "Wo Sie sie gefunden haben (optional)"},
    "report_description": {"en": "Short description (optional)", "fr": "Brève description (facultatif)",
                           "nl": "Korte beschrijving (optioneel)", "de": "Kurze Beschreibung (optional)"},
    "report_contact": {"en": "Your contact (optional, only if you want us to be able to reach you)",
                       "fr": "Votre contact (facultatif, uniquement si vous souhaitez que nous puissions vous joindre)",
                       "nl": "Uw contactgegevens (optioneel, enkel als u wilt dat wij u kunnen bereiken)",
                       "de": "Ihr Kontakt (optional, nur wenn wir Sie erreichen können sollen)"},
    "report_honeypot": {"en": "Leave this field empty", "fr": "Laissez ce champ vide", "nl": "Laat dit veld leeg",
                        "de": "Lassen Sie dieses Feld leer"},
    "report_privacy": {
        "en": "We do not keep your IP address, your browser or any cookie with your report; your contact only if "
              "you leave one.",
        "fr": "Nous ne conservons ni votre adresse IP, ni votre navigateur, ni aucun cookie avec votre "
              "signalement ; votre contact seulement si vous le laissez.",
        "nl": "Wij bewaren uw IP-adres, uw browser of cookies niet bij uw melding; uw contactgegevens enkel als u "
              "ze achterlaat.",
        "de": "Wir speichern weder Ihre IP-Adresse noch Ihren Browser noch ein Cookie mit Ihrer Meldung; Ihren "
              "Kontakt nur, wenn Sie ihn angeben."},
    "report_send": {"en": "Send the report", "fr": "Envoyer le signalement", "nl": "Melding versturen",
                    "de": "Meldung senden"},
    "report_thanks": {"en": "Thank you: your report has been received.",
                      "fr": "Merci : votre signalement a été reçu.", "nl": "Dank u: uw melding is ontvangen.",
                      "de": "Danke: Ihre Meldung ist eingegangen."},
    "report_receipt": {"en": "Receipt number", "fr": "Numéro de réception", "nl": "Ontvangstnummer",
                       "de": "Eingangsnummer"},
    "report_next": {
        "en": "What happens next: officers of the Federal Computer Crime Unit examine every report. You will not be "
              "told the outcome; if you left a contact, they may contact you. Quote the receipt number if you "
              "refer to this report.",
        "fr": "La suite : des agents de la Federal Computer Crime Unit examinent chaque signalement. Le résultat ne "
              "vous sera pas communiqué ; si vous avez laissé un contact, ils pourront vous joindre. Citez le "
              "numéro de réception si vous faites référence à ce signalement.",
        "nl": "Wat er nu gebeurt: agenten van de Federal Computer Crime Unit onderzoeken elke melding. U krijgt de "
              "uitkomst niet te horen; als u contactgegevens achterliet, kunnen zij u contacteren. Vermeld het "
              "ontvangstnummer als u naar deze melding verwijst.",
        "de": "Wie es weitergeht: Beamte der Federal Computer Crime Unit prüfen jede Meldung. Das Ergebnis wird "
              "Ihnen nicht mitgeteilt; wenn Sie einen Kontakt angegeben haben, können sie Sie erreichen. Nennen Sie "
              "die Eingangsnummer, wenn Sie sich auf diese Meldung beziehen."},
    "report_another": {"en": "Report another address", "fr": "Signaler une autre adresse",
                       "nl": "Nog een adres melden", "de": "Eine weitere Adresse melden"},
    "report_refused": {"en": "Report not sent", "fr": "Signalement non envoyé", "nl": "Melding niet verstuurd",
                       "de": "Meldung nicht gesendet"},
    "report_err_address_missing": {"en": "Give the address you saw.", "fr": "Indiquez l'adresse que vous avez vue.",
                                   "nl": "Geef het adres dat u zag.", "de": "Geben Sie die gesehene Adresse an."},
    "report_err_not_a_host": {
        "en": "This is not a web address with a site name (for example site.example/page); check what you typed.",
        "fr": "Ce n'est pas une adresse web avec un nom de site (par exemple site.example/page) ; vérifiez votre "
              "saisie.",
        "nl": "Dit is geen webadres met een sitenaam (bijvoorbeeld site.example/pagina); controleer wat u typte.",
        "de": "Das ist keine Webadresse mit einem Seitennamen (zum Beispiel site.example/seite); prüfen Sie Ihre "
              "Eingabe."},
    "form_err_too_long": {"en": "“{field}” is too long: at most {limit} characters.",
                          "fr": "« {field} » est trop long : {limit} caractères au plus.",
                          "nl": "„{field}” is te lang: hoogstens {limit} tekens.",
                          "de": "„{field}“ ist zu lang: höchstens {limit} Zeichen."},
    "form_err_bad_characters": {"en": "“{field}” contains a control character that is not allowed.",
                                "fr": "« {field} » contient un caractère de contrôle non autorisé.",
                                "nl": "„{field}” bevat een niet toegelaten stuurteken.",
                                "de": "„{field}“ enthält ein nicht erlaubtes Steuerzeichen."},
    "report_err_honeypot": {
        "en": "The report was refused: a field meant to stay empty was filled in (this happens with automatic "
              "form fillers). Nothing was stored; send the form again with that field empty.",
        "fr": "Le signalement a été refusé : un champ qui doit rester vide a été rempli (cela arrive avec le "
              "remplissage automatique). Rien n'a été enregistré ; renvoyez le formulaire avec ce champ vide.",
        "nl": "De melding werd geweigerd: een veld dat leeg moet blijven, was ingevuld (dat gebeurt bij automatisch "
              "invullen). Er werd niets bewaard; verstuur het formulier opnieuw met dat veld leeg.",
        "de": "Die Meldung wurde abgelehnt: ein Feld, das leer bleiben muss, war ausgefüllt (das passiert beim "
              "automatischen Ausfüllen). Nichts wurde gespeichert; senden Sie das Formular mit leerem Feld erneut."},
    "report_err_limited": {
        "en": "Too many reports came from your address. Nothing was stored; try again in {minutes} minutes.",
        "fr": "Trop de signalements sont venus de votre adresse. Rien n'a été enregistré ; réessayez dans "
              "{minutes} minutes.",
        "nl": "Er kwamen te veel meldingen van uw adres. Er werd niets bewaard; probeer het over {minutes} minuten "
              "opnieuw.",
        "de": "Von Ihrer Adresse kamen zu viele Meldungen. Nichts wurde gespeichert; versuchen Sie es in {minutes} "
              "Minuten erneut."},
    "report_err_too_large": {"en": "The form is far too large. Nothing was stored.",
                             "fr": "Le formulaire est beaucoup trop volumineux. Rien n'a été enregistré.",
                             "nl": "Het formulier is veel te groot. Er werd niets bewaard.",
                             "de": "Das Formular ist viel zu groß. Nichts wurde gespeichert."},
    "triage": {"en": "Triage", "fr": "Tri", "nl": "Triage", "de": "Sichtung"},
    "triage_title": {"en": "Reports to triage, by name", "fr": "Signalements à trier, par nom",
                     "nl": "Te sorteren meldingen, per naam", "de": "Zu sichtende Meldungen, nach Name"},
    "triage_count": {"en": "Reports", "fr": "Signalements", "nl": "Meldingen", "de": "Meldungen"},
    "triage_first": {"en": "First seen", "fr": "Premier signalement", "nl": "Eerste melding",
                     "de": "Erste Meldung"},
    "triage_last": {"en": "Last seen", "fr": "Dernier signalement", "nl": "Laatste melding",
                    "de": "Letzte Meldung"},
    "triage_sort_count": {"en": "most reported first", "fr": "les plus signalés d'abord",
                          "nl": "meest gemeld eerst", "de": "meistgemeldete zuerst"},
    "triage_sort_age": {"en": "oldest first", "fr": "les plus anciens d'abord", "nl": "oudste eerst",
                        "de": "älteste zuerst"},
    "triage_not_listed": {"en": "never submitted", "fr": "jamais soumis", "nl": "nooit ingediend",
                          "de": "nie eingereicht"},
    "triage_not_blockable": {"en": "not a blockable name", "fr": "nom non blocable", "nl": "geen blokkeerbare naam",
                             "de": "kein sperrbarer Name"},
    "triage_open": {"en": "Open a submission", "fr": "Ouvrir une soumission", "nl": "Een indiening openen",
                    "de": "Eine Einreichung öffnen"},
    "triage_dismiss": {"en": "Dismiss", "fr": "Écarter", "nl": "Afwijzen", "de": "Verwerfen"},
    "triage_empty": {"en": "No report waits for triage.", "fr": "Aucun signalement n'attend d'être trié.",
                     "nl": "Er wachten geen meldingen op triage.", "de": "Keine Meldung wartet auf Sichtung."},
    "triage_page": {"en": "Page {page} of {pages}", "fr": "Page {page} sur {pages}", "nl": "Pagina {page} van {pages}",
                    "de": "Seite {page} von {pages}"},
    "triage_prev": {"en": "Previous", "fr": "Précédente", "nl": "Vorige", "de": "Vorherige"},
    "triage_next": {"en": "Next", "fr": "Suivante", "nl": "Volgende", "de": "Nächste"},
    "msg_dismissed": {"en": "{host}: {count} report(s) dismissed", "fr": "{host} : {count} signalement(s) écarté(s)",
                      "nl": "{host}: {count} melding(en) afgewezen", "de": "{host}: {count} Meldung(en) verworfen"},
    "linked_reports": {"en": "Reports linked to this submission", "fr": "Signalements liés à cette soumission",
                       "nl": "Meldingen gekoppeld aan deze indiening",
                       "de": "Mit dieser Einreichung verknüpfte Meldungen"},
    # --- transparency (issue 13): the public statistics page /transparency and its PDF (api/web/transparency.py) ---
    "tr_title": {"en": "Transparency: blocking in figures", "fr": "Transparence : le blocage en chiffres",
                 "nl": "Transparantie: de blokkering in cijfers", "de": "Transparenz: die Sperrung in Zahlen"},
    "tr_link": {"en": "Statistics on blocking (transparency)", "fr": "Statistiques du blocage (transparence)",
                "nl": "Statistieken van de blokkering (transparantie)",
                "de": "Statistiken der Sperrung (Transparenz)"},
    "tr_lead": {
        "en": "How the blocking of child sexual abuse websites works in Belgium, in figures: names blocked and "
              "lifted and on which legal basis, what became of reports, how fast hosting and access providers "
              "acted, and how blocks are reviewed and challenged.",
        "fr": "Le blocage des sites d'abus sexuels d'enfants en Belgique, en chiffres : les noms bloqués et levés "
              "et sur quelle base légale, la suite donnée aux signalements, la rapidité des hébergeurs et des "
              "fournisseurs d'accès, le réexamen et la contestation des blocages.",
        "nl": "De blokkering van websites met seksueel misbruik van kinderen in België, in cijfers: geblokkeerde en "
              "opgeheven namen en op welke rechtsgrond, wat er met meldingen gebeurde, hoe snel hosting- en "
              "toegangsproviders handelden, en hoe blokkeringen herzien en betwist worden.",
        "de": "Die Sperrung von Websites mit sexuellem Kindesmissbrauch in Belgien, in Zahlen: gesperrte und "
              "aufgehobene Namen und auf welcher Rechtsgrundlage, was aus Meldungen wurde, wie schnell Hosting- "
              "und Zugangsanbieter handelten und wie Sperren überprüft und angefochten werden."},
    "tr_never": {
        "en": "These figures never show a blocked name, a case number, the text of a report or of an appeal, or "
              "anyone's contact: only counts, shares and median delays.",
        "fr": "Ces chiffres ne montrent jamais un nom bloqué, un numéro de dossier, le texte d'un signalement ou "
              "d'un recours, ni le contact de quiconque : uniquement des nombres, des parts et des délais médians.",
        "nl": "Deze cijfers tonen nooit een geblokkeerde naam, een dossiernummer, de tekst van een melding of van "
              "een bezwaar, of iemands contactgegevens: enkel aantallen, aandelen en mediane termijnen.",
        "de": "Diese Zahlen zeigen nie einen gesperrten Namen, ein Aktenzeichen, den Text einer Meldung oder eines "
              "Widerspruchs oder einen Kontakt: nur Anzahlen, Anteile und mittlere Fristen (Median)."},
    "tr_year": {"en": "Year {year}", "fr": "Année {year}", "nl": "Jaar {year}", "de": "Jahr {year}"},
    "tr_quarter_1": {"en": "1st quarter {year}", "fr": "1er trimestre {year}", "nl": "1e kwartaal {year}",
                     "de": "1. Quartal {year}"},
    "tr_quarter_2": {"en": "2nd quarter {year}", "fr": "2e trimestre {year}", "nl": "2e kwartaal {year}",
                     "de": "2. Quartal {year}"},
    "tr_quarter_3": {"en": "3rd quarter {year}", "fr": "3e trimestre {year}", "nl": "3e kwartaal {year}",
                     "de": "3. Quartal {year}"},
    "tr_quarter_4": {"en": "4th quarter {year}", "fr": "4e trimestre {year}", "nl": "4e kwartaal {year}",
                     "de": "4. Quartal {year}"},
    "tr_to_date": {"en": "{period}, to date", "fr": "{period}, à ce jour", "nl": "{period}, tot nu toe",
                   "de": "{period}, bis heute"},
    "tr_span": {"en": "from {first} to {last}", "fr": "du {first} au {last}", "nl": "van {first} tot {last}",
                "de": "vom {first} bis {last}"},
    "tr_periods": {"en": "Other periods", "fr": "Autres périodes", "nl": "Andere periodes", "de": "Andere Zeiträume"},
    "tr_download": {"en": "Download the report", "fr": "Télécharger le rapport", "nl": "Het rapport downloaden",
                    "de": "Den Bericht herunterladen"},
    "tr_pdf": {"en": "PDF", "fr": "PDF", "nl": "PDF", "de": "PDF"},
    "tr_csv": {"en": "CSV (figures only)", "fr": "CSV (chiffres seuls)", "nl": "CSV (enkel cijfers)",
               "de": "CSV (nur Zahlen)"},
    "tr_generated": {"en": "Generated on {day}", "fr": "Établi le {day}", "nl": "Opgemaakt op {day}",
                     "de": "Erstellt am {day}"},
    "tr_figure": {"en": "Figure", "fr": "Chiffre", "nl": "Cijfer", "de": "Zahl"},
    "tr_total": {"en": "Total", "fr": "Total", "nl": "Totaal", "de": "Gesamt"},
    "tr_names": {"en": "Names blocked and lifted", "fr": "Noms bloqués et levés", "nl": "Geblokkeerde en "
                 "opgeheven namen", "de": "Gesperrte und aufgehobene Namen"},
    "tr_listed": {"en": "Listed", "fr": "Bloqués", "nl": "Geblokkeerd", "de": "Gesperrt"},
    "tr_lifted": {"en": "Lifted", "fr": "Levés", "nl": "Opgeheven", "de": "Aufgehoben"},
    "tr_in_force": {"en": "Blocked at the end of the period", "fr": "Bloqués en fin de période",
                    "nl": "Geblokkeerd op het einde van de periode", "de": "Gesperrt am Ende des Zeitraums"},
    "tr_basis_ecommerce_law": {"en": "Law of 11 March 2003 (e-commerce)", "fr": "Loi du 11 mars 2003 (e-commerce)",
                               "nl": "Wet van 11 maart 2003 (e-commerce)", "de": "Gesetz vom 11. März 2003 "
                               "(E-Commerce)"},
    "tr_basis_art39bis": {"en": "Art. 39bis Code of Criminal Procedure", "fr": "Art. 39bis Code d'instruction "
                          "criminelle", "nl": "Art. 39bis Wetboek van strafvordering",
                          "de": "Art. 39bis Strafprozessgesetzbuch"},
    "tr_basis_court_order": {"en": "Court decision", "fr": "Décision judiciaire", "nl": "Rechterlijke beslissing",
                             "de": "Gerichtliche Entscheidung"},
    "tr_chart_names": {"en": "Names listed (solid bars) and lifted (hatched bars) by legal basis, {period}",
                       "fr": "Noms bloqués (barres pleines) et levés (barres hachurées) par base légale, {period}",
                       "nl": "Geblokkeerde (volle balken) en opgeheven namen (gearceerde balken) per rechtsgrond, "
                             "{period}",
                       "de": "Gesperrte (volle Balken) und aufgehobene Namen (schraffierte Balken) nach "
                             "Rechtsgrundlage, {period}"},
    "tr_chart_months": {"en": "Names listed (solid line, round points) and lifted (dashed line, square points) per "
                              "month, {period}",
                        "fr": "Noms bloqués (ligne pleine, points ronds) et levés (ligne tiretée, points carrés) par "
                              "mois, {period}",
                        "nl": "Geblokkeerde (volle lijn, ronde punten) en opgeheven namen (streepjeslijn, vierkante "
                              "punten) per maand, {period}",
                        "de": "Gesperrte (durchgezogene Linie, runde Punkte) und aufgehobene Namen (gestrichelte "
                              "Linie, quadratische Punkte) pro Monat, {period}"},
    "tr_chart_compliance": {"en": "Share of the listed names each access provider blocked at the latest "
                                  "verification, {period}",
                            "fr": "Part des noms bloqués par chaque fournisseur d'accès à la dernière vérification, "
                                  "{period}",
                            "nl": "Aandeel van de namen dat elke toegangsprovider blokkeerde bij de laatste "
                                  "verificatie, {period}",
                            "de": "Anteil der Namen, die jeder Zugangsanbieter bei der letzten Prüfung sperrte, "
                                  "{period}"},
    "tr_chart_note": {"en": "A table gives the same figures.", "fr": "Un tableau donne les mêmes chiffres.",
                      "nl": "Een tabel geeft dezelfde cijfers.", "de": "Eine Tabelle enthält dieselben Zahlen."},
    "tr_month": {"en": "Month", "fr": "Mois", "nl": "Maand", "de": "Monat"},
    "tr_reports": {"en": "Reports from the public and from partner hotlines",
                   "fr": "Signalements du public et des lignes d'écoute partenaires",
                   "nl": "Meldingen van het publiek en van partnermeldpunten",
                   "de": "Meldungen der Öffentlichkeit und von Partner-Meldestellen"},
    "tr_received_public": {"en": "Received from the public", "fr": "Reçus du public", "nl": "Ontvangen van het "
                           "publiek", "de": "Von der Öffentlichkeit erhalten"},
    "tr_received_partner": {"en": "Received from partner hotlines", "fr": "Reçus des lignes partenaires",
                            "nl": "Ontvangen van partnermeldpunten", "de": "Von Partner-Meldestellen erhalten"},
    "tr_received": {"en": "Received", "fr": "Reçus", "nl": "Ontvangen", "de": "Erhalten"},
    "tr_triaged": {"en": "Triaged", "fr": "Triés", "nl": "Gesorteerd", "de": "Gesichtet"},
    "tr_outcome_linked": {"en": "led to a submission", "fr": "ayant mené à une soumission",
                          "nl": "leidden tot een indiening", "de": "führten zu einer Einreichung"},
    "tr_outcome_merged": {"en": "added to an existing block", "fr": "joints à un blocage existant",
                          "nl": "toegevoegd aan een bestaande blokkering", "de": "einer bestehenden Sperre "
                          "zugeordnet"},
    "tr_outcome_dismissed": {"en": "dismissed", "fr": "écartés", "nl": "afgewezen", "de": "verworfen"},
    "tr_removal": {"en": "Removal notices to hosting providers in Belgium",
                   "fr": "Notifications de retrait aux hébergeurs en Belgique",
                   "nl": "Verwijderingsberichten aan hostingproviders in België",
                   "de": "Entfernungsaufforderungen an Hosting-Anbieter in Belgien"},
    "tr_notices_sent": {"en": "Notices sent", "fr": "Notifications envoyées", "nl": "Verstuurde berichten",
                        "de": "Gesendete Aufforderungen"},
    "tr_sites_removed": {"en": "Sites removed", "fr": "Sites retirés", "nl": "Verwijderde sites",
                         "de": "Entfernte Websites"},
    "tr_median_removal": {"en": "Median time from notice to removal", "fr": "Délai médian entre notification et "
                          "retrait", "nl": "Mediane termijn van bericht tot verwijdering",
                          "de": "Mittlere Frist von Aufforderung bis Entfernung (Median)"},
    "tr_requisitions": {"en": "Requisitions to Internet access providers",
                        "fr": "Réquisitions aux fournisseurs d'accès à Internet",
                        "nl": "Vorderingen aan internettoegangsproviders",
                        "de": "Anordnungen an Internetzugangsanbieter"},
    "tr_kind_blocking": {"en": "Blocking requisitions sent", "fr": "Réquisitions de blocage envoyées",
                         "nl": "Verstuurde blokkeringsvorderingen", "de": "Gesendete Sperranordnungen"},
    "tr_kind_lifting": {"en": "Lifting requisitions sent", "fr": "Réquisitions de levée envoyées",
                        "nl": "Verstuurde opheffingsvorderingen", "de": "Gesendete Aufhebungsanordnungen"},
    "tr_kind_catch_up": {"en": "Catch-up requisitions sent (new providers)",
                         "fr": "Réquisitions de rattrapage envoyées (nouveaux fournisseurs)",
                         "nl": "Verstuurde inhaalvorderingen (nieuwe providers)",
                         "de": "Gesendete Nachholanordnungen (neue Anbieter)"},
    "tr_acknowledged": {"en": "Acknowledged by the provider", "fr": "Accusés de réception du fournisseur",
                        "nl": "Bevestigd door de provider", "de": "Vom Anbieter bestätigt"},
    "tr_ack_late": {"en": "of which after the deadline", "fr": "dont après le délai", "nl": "waarvan na de termijn",
                    "de": "davon nach Fristablauf"},
    "tr_median_ack": {"en": "Median time to acknowledge", "fr": "Délai médian d'accusé de réception",
                      "nl": "Mediane bevestigingstermijn", "de": "Mittlere Bestätigungsfrist (Median)"},
    "tr_compliance": {"en": "Blocking by each access provider", "fr": "Blocage par chaque fournisseur d'accès",
                      "nl": "Blokkering door elke toegangsprovider", "de": "Sperrung durch jeden Zugangsanbieter"},
    "tr_compliance_lead": {
        "en": "The share of listed names each provider's resolvers answered with the block at the latest DNS "
              "verification of the period, and the median time from a block's approval to the first verification "
              "that found it applied there.",
        "fr": "La part des noms que les résolveurs de chaque fournisseur ont répondu bloqués à la dernière "
              "vérification DNS de la période, et le délai médian entre l'approbation d'un blocage et la première "
              "vérification qui l'a trouvé appliqué chez lui.",
        "nl": "Het aandeel van de namen dat de resolvers van elke provider geblokkeerd beantwoordden bij de laatste "
              "DNS-verificatie van de periode, en de mediane termijn van de goedkeuring van een blokkering tot de "
              "eerste verificatie die ze er toegepast vond.",
        "de": "Der Anteil der Namen, die die Resolver jedes Anbieters bei der letzten DNS-Prüfung des Zeitraums "
              "gesperrt beantworteten, und die mittlere Frist von der Genehmigung einer Sperre bis zur ersten "
              "Prüfung, die sie dort angewendet fand."},
    "tr_isp": {"en": "Provider", "fr": "Fournisseur", "nl": "Provider", "de": "Anbieter"},
    "tr_share_blocked": {"en": "Share blocked", "fr": "Part bloquée", "nl": "Aandeel geblokkeerd",
                         "de": "Anteil gesperrt"},
    "tr_of_names": {"en": "{blocked} of {checked} names", "fr": "{blocked} noms sur {checked}",
                    "nl": "{blocked} van {checked} namen", "de": "{blocked} von {checked} Namen"},
    "tr_median_ttb": {"en": "Median time to block", "fr": "Délai médian de blocage", "nl": "Mediane "
                      "blokkeringstermijn", "de": "Mittlere Sperrfrist (Median)"},
    "tr_measured": {"en": "measured on {count} names", "fr": "mesuré sur {count} noms",
                    "nl": "gemeten op {count} namen", "de": "an {count} Namen gemessen"},
    "tr_not_measured": {"en": "not measured in this period", "fr": "non mesuré sur cette période",
                        "nl": "niet gemeten in deze periode", "de": "in diesem Zeitraum nicht gemessen"},
    "tr_reviews": {"en": "Reviews of blocks", "fr": "Réexamens des blocages", "nl": "Herzieningen van blokkeringen",
                   "de": "Überprüfungen der Sperren"},
    "tr_reviews_done": {"en": "Reviews done", "fr": "Réexamens effectués", "nl": "Uitgevoerde herzieningen",
                        "de": "Durchgeführte Überprüfungen"},
    "tr_reviews_renewed": {"en": "of which renewed", "fr": "dont renouvelés", "nl": "waarvan verlengd",
                           "de": "davon verlängert"},
    "tr_reviews_lifted": {"en": "of which lifted", "fr": "dont levés", "nl": "waarvan opgeheven",
                          "de": "davon aufgehoben"},
    "tr_overdue": {"en": "Blocks overdue for review on {day}", "fr": "Blocages en retard de réexamen au {day}",
                   "nl": "Blokkeringen met achterstallige herziening op {day}",
                   "de": "Sperren mit überfälliger Überprüfung am {day}"},
    "tr_overdue_short": {"en": "Overdue for review at the end", "fr": "En retard de réexamen en fin de période",
                         "nl": "Achterstallige herziening op het einde", "de": "Überprüfung am Ende überfällig"},
    "tr_appeals": {"en": "Appeals from the public", "fr": "Recours du public", "nl": "Bezwaren van het publiek",
                   "de": "Widersprüche der Öffentlichkeit"},
    "tr_appeals_received": {"en": "Appeals received", "fr": "Recours reçus", "nl": "Ontvangen bezwaren",
                            "de": "Erhaltene Widersprüche"},
    "tr_appeals_upheld": {"en": "Upheld (the block was lifted)", "fr": "Fondés (le blocage a été levé)",
                          "nl": "Gegrond (de blokkering werd opgeheven)",
                          "de": "Stattgegeben (die Sperre wurde aufgehoben)"},
    "tr_appeals_dismissed": {"en": "Dismissed", "fr": "Rejetés", "nl": "Afgewezen", "de": "Zurückgewiesen"},
    "tr_hosting": {"en": "Where the listed sites were hosted", "fr": "Où les sites bloqués étaient hébergés",
                   "nl": "Waar de geblokkeerde sites gehost werden", "de": "Wo die gesperrten Websites gehostet waren"},
    "tr_belgium": {"en": "In Belgium (removal notice)", "fr": "En Belgique (notification de retrait)",
                   "nl": "In België (verwijderingsbericht)", "de": "In Belgien (Entfernungsaufforderung)"},
    "tr_elsewhere": {"en": "Outside Belgium", "fr": "Hors de Belgique", "nl": "Buiten België",
                     "de": "Außerhalb Belgiens"},
    "tr_country": {"en": "Country (ISO code)", "fr": "Pays (code ISO)", "nl": "Land (ISO-code)",
                   "de": "Land (ISO-Code)"},
    "tr_minutes": {"en": "{minutes} min", "fr": "{minutes} min", "nl": "{minutes} min", "de": "{minutes} Min."},
    "tr_hours": {"en": "{hours} h {minutes} min", "fr": "{hours} h {minutes} min", "nl": "{hours} u {minutes} min",
                 "de": "{hours} Std. {minutes} Min."},
    "tr_days": {"en": "{days} days", "fr": "{days} jours", "nl": "{days} dagen", "de": "{days} Tage"},
    "tr_no_period_title": {"en": "No such period", "fr": "Période introuvable", "nl": "Periode niet gevonden",
                           "de": "Zeitraum nicht gefunden"},
    "tr_no_period": {
        "en": "There is no report for this period. Name a year (for example {year}) or a quarter (for example "
              "{year}-Q1) that has begun, or choose one below.",
        "fr": "Il n'y a pas de rapport pour cette période. Indiquez une année (par exemple {year}) ou un trimestre "
              "(par exemple {year}-Q1) déjà commencé, ou choisissez-en un ci-dessous.",
        "nl": "Er is geen rapport voor deze periode. Geef een jaar (bijvoorbeeld {year}) of een kwartaal "
              "(bijvoorbeeld {year}-Q1) dat begonnen is, of kies er hieronder een.",
        "de": "Für diesen Zeitraum gibt es keinen Bericht. Nennen Sie ein Jahr (zum Beispiel {year}) oder ein Quartal "
              "(zum Beispiel {year}-Q1), das begonnen hat, oder wählen Sie unten einen Zeitraum."},
    "tr_back": {"en": "Back to the statistics", "fr": "Retour aux statistiques", "nl": "Terug naar de statistieken",
                "de": "Zurück zu den Statistiken"},
    # --- reviews (issue 13): due list, re-attestation, renewal (api/web/reviews.py, templates/_reviews_*.html) ---
    "review_in_days": {"en": "in {days} day(s)", "fr": "dans {days} jour(s)", "nl": "over {days} dag(en)",
                       "de": "in {days} Tag(en)"},
    "review_today": {"en": "due today", "fr": "aujourd'hui", "nl": "vandaag", "de": "heute fällig"},
    "review_overdue_by": {"en": "overdue by {days} day(s)", "fr": "en retard de {days} jour(s)",
                          "nl": "{days} dag(en) te laat", "de": "seit {days} Tag(en) überfällig"},
    "review_proposed": {"en": "proposed for lifting: the content is gone", "fr": "proposé à la levée : le contenu a "
                        "disparu", "nl": "voorgesteld voor opheffing: de inhoud is verdwenen",
                        "de": "zur Aufhebung vorgeschlagen: der Inhalt ist verschwunden"},
    "review_attestation": {"en": "Re-attestation", "fr": "Réattestation", "nl": "Nieuwe bevestiging",
                           "de": "Erneute Bestätigung"},
    "review_attested": {"en": "content still there, checked on {date} by {officer} ({evidence})",
                        "fr": "contenu toujours présent, vérifié le {date} par {officer} ({evidence})",
                        "nl": "inhoud nog aanwezig, gecontroleerd op {date} door {officer} ({evidence})",
                        "de": "Inhalt noch vorhanden, geprüft am {date} von {officer} ({evidence})"},
    "review_attested_gone": {"en": "content gone, checked on {date} by {officer} ({evidence})",
                             "fr": "contenu disparu, vérifié le {date} par {officer} ({evidence})",
                             "nl": "inhoud verdwenen, gecontroleerd op {date} door {officer} ({evidence})",
                             "de": "Inhalt verschwunden, geprüft am {date} von {officer} ({evidence})"},
    "review_none": {"en": "no re-attestation since the last decision", "fr": "aucune réattestation depuis la "
                    "dernière décision", "nl": "geen nieuwe bevestiging sinds de laatste beslissing",
                    "de": "keine erneute Bestätigung seit der letzten Entscheidung"},
    "review_new_date": {"en": "Next review on", "fr": "Prochain réexamen le", "nl": "Volgende herziening op",
                        "de": "Nächste Überprüfung am"},
    "review_rule": {"en": "A renewal rests on an officer's re-attestation, checked within the last 30 days, that the "
                          "content is still there; nothing is renewed or lifted automatically.",
                    "fr": "Un renouvellement repose sur la réattestation d'un officier, vérifiée dans les 30 derniers "
                          "jours, que le contenu est toujours présent ; rien n'est renouvelé ni levé automatiquement.",
                    "nl": "Een verlenging steunt op een nieuwe bevestiging door een agent, gecontroleerd in de "
                          "laatste 30 dagen, dat de inhoud er nog is; niets wordt automatisch verlengd of opgeheven.",
                    "de": "Eine Verlängerung beruht auf der erneuten Bestätigung eines Beamten, geprüft in den "
                          "letzten 30 Tagen, dass der Inhalt noch vorhanden ist; nichts wird automatisch verlängert "
                          "oder aufgehoben."},
    "reattest_title": {"en": "Blocks to re-attest", "fr": "Blocages à réattester", "nl": "Opnieuw te bevestigen "
                       "blokkeringen", "de": "Erneut zu bestätigende Sperren"},
    "reattest_hint": {"en": "For each block due for review, record the check you made: the day, the reference of its "
                            "evidence in the evidence system, and whether the content is still there. Content gone "
                            "proposes the name for lifting.",
                      "fr": "Pour chaque blocage à réexaminer, enregistrez la vérification faite : le jour, la "
                            "référence de sa preuve dans le système de preuves, et si le contenu est toujours "
                            "présent. Un contenu disparu propose le nom à la levée.",
                      "nl": "Registreer voor elke te herziene blokkering de uitgevoerde controle: de dag, de "
                            "referentie van het bewijs in het bewijssysteem, en of de inhoud er nog is. Verdwenen "
                            "inhoud stelt de naam voor opheffing voor.",
                      "de": "Erfassen Sie für jede zu überprüfende Sperre die durchgeführte Prüfung: den Tag, die "
                            "Referenz des Nachweises im Beweissystem und ob der Inhalt noch vorhanden ist. "
                            "Verschwundener Inhalt schlägt den Namen zur Aufhebung vor."},
    "checked_on": {"en": "Checked on", "fr": "Vérifié le", "nl": "Gecontroleerd op", "de": "Geprüft am"},
    "content_there": {"en": "content still there", "fr": "contenu toujours présent", "nl": "inhoud nog aanwezig",
                      "de": "Inhalt noch vorhanden"},
    "content_gone": {"en": "content gone", "fr": "contenu disparu", "nl": "inhoud verdwenen",
                     "de": "Inhalt verschwunden"},
    "reattest": {"en": "Re-attest", "fr": "Réattester", "nl": "Opnieuw bevestigen", "de": "Erneut bestätigen"},
    "reviews_empty": {"en": "No block is due for review.", "fr": "Aucun blocage n'est à réexaminer.",
                      "nl": "Geen enkele blokkering moet herzien worden.", "de": "Keine Sperre ist zur Überprüfung "
                      "fällig."},
    "overdue_reviews": {"en": "Overdue reviews", "fr": "Réexamens en retard", "nl": "Te late herzieningen",
                        "de": "Überfällige Überprüfungen"},
    "overdue_reviews_none": {"en": "No review is overdue.", "fr": "Aucun réexamen n'est en retard.",
                             "nl": "Geen enkele herziening is te laat.", "de": "Keine Überprüfung ist überfällig."},
    "msg_attested": {"en": "{name}: re-attestation recorded", "fr": "{name} : réattestation enregistrée",
                     "nl": "{name}: nieuwe bevestiging geregistreerd", "de": "{name}: erneute Bestätigung erfasst"},
    "msg_attested_gone": {"en": "{name}: re-attestation recorded; the name is proposed for lifting",
                          "fr": "{name} : réattestation enregistrée ; le nom est proposé à la levée",
                          "nl": "{name}: nieuwe bevestiging geregistreerd; de naam wordt voorgesteld voor opheffing",
                          "de": "{name}: erneute Bestätigung erfasst; der Name ist zur Aufhebung vorgeschlagen"},
    "msg_renewed_until": {"en": "{name}: block renewed, next review on {date}",
                          "fr": "{name} : blocage renouvelé, prochain réexamen le {date}",
                          "nl": "{name}: blokkering verlengd, volgende herziening op {date}",
                          "de": "{name}: Sperre verlängert, nächste Überprüfung am {date}"},
    "review_err_bad_date": {"en": "“{label}” must be a date (YYYY-MM-DD).",
                            "fr": "« {label} » doit être une date (AAAA-MM-JJ).",
                            "nl": "„{label}” moet een datum zijn (JJJJ-MM-DD).",
                            "de": "„{label}“ muss ein Datum sein (JJJJ-MM-TT)."},
    "review_err_content_missing": {"en": "Say whether the content is still there.",
                                   "fr": "Indiquez si le contenu est toujours présent.",
                                   "nl": "Geef aan of de inhoud er nog is.",
                                   "de": "Geben Sie an, ob der Inhalt noch vorhanden ist."},
    "review_err_evidence_missing": {"en": "A re-attestation needs the reference of the evidence of the check.",
                                    "fr": "Une réattestation demande la référence de la preuve de la vérification.",
                                    "nl": "Een nieuwe bevestiging vraagt de referentie van het bewijs van de controle.",
                                    "de": "Eine erneute Bestätigung braucht die Referenz des Nachweises der Prüfung."},
    "review_err_checked_future": {"en": "The date checked ({date}) cannot be in the future.",
                                  "fr": "La date de vérification ({date}) ne peut pas être dans le futur.",
                                  "nl": "De controledatum ({date}) kan niet in de toekomst liggen.",
                                  "de": "Das Prüfdatum ({date}) kann nicht in der Zukunft liegen."},
    "review_err_checked_before_block": {
        "en": "The date checked ({date}) is before the block ({approved_on}): a re-attestation is a new check.",
        "fr": "La date de vérification ({date}) précède le blocage ({approved_on}) : une réattestation est une "
              "nouvelle vérification.",
        "nl": "De controledatum ({date}) ligt vóór de blokkering ({approved_on}): een nieuwe bevestiging is een "
              "nieuwe controle.",
        "de": "Das Prüfdatum ({date}) liegt vor der Sperre ({approved_on}): eine erneute Bestätigung ist eine neue "
              "Prüfung."},
    "review_err_reason_missing": {"en": "Renewing a block needs a written reason.",
                                  "fr": "Renouveler un blocage demande un motif écrit.",
                                  "nl": "Een blokkering verlengen vraagt een schriftelijke reden.",
                                  "de": "Eine Sperre zu verlängern braucht eine schriftliche Begründung."},
    "review_err_date_not_future": {"en": "The next review date ({date}) must be after today ({today}).",
                                   "fr": "La date du prochain réexamen ({date}) doit être postérieure à aujourd'hui "
                                         "({today}).",
                                   "nl": "De volgende herzieningsdatum ({date}) moet na vandaag ({today}) liggen.",
                                   "de": "Das nächste Überprüfungsdatum ({date}) muss nach heute ({today}) liegen."},
    "review_err_date_too_far": {"en": "The next review date ({date}) may be at most {days} days ahead ({latest}).",
                                "fr": "La date du prochain réexamen ({date}) peut être au plus à {days} jours "
                                      "({latest}).",
                                "nl": "De volgende herzieningsdatum ({date}) mag hoogstens {days} dagen later liggen "
                                      "({latest}).",
                                "de": "Das nächste Überprüfungsdatum ({date}) darf höchstens {days} Tage entfernt "
                                      "sein ({latest})."},
    "review_err_no_attestation": {"en": "{name} cannot be renewed yet: an officer must first re-attest that the "
                                        "content is still there.",
                                  "fr": "{name} ne peut pas encore être renouvelé : un officier doit d'abord "
                                        "réattester que le contenu est toujours présent.",
                                  "nl": "{name} kan nog niet verlengd worden: een agent moet eerst opnieuw bevestigen "
                                        "dat de inhoud er nog is.",
                                  "de": "{name} kann noch nicht verlängert werden: ein Beamter muss zuerst erneut "
                                        "bestätigen, dass der Inhalt noch vorhanden ist."},
    "review_err_attestation_stale": {"en": "The latest re-attestation was checked on {checked_on}, more than {days} "
                                           "days ago: an officer must re-attest first.",
                                     "fr": "La dernière réattestation a été vérifiée le {checked_on}, il y a plus de "
                                           "{days} jours : un officier doit d'abord réattester.",
                                     "nl": "De laatste nieuwe bevestiging werd gecontroleerd op {checked_on}, meer dan "
                                           "{days} dagen geleden: een agent moet eerst opnieuw bevestigen.",
                                     "de": "Die letzte erneute Bestätigung wurde am {checked_on} geprüft, vor mehr als "
                                           "{days} Tagen: ein Beamter muss zuerst erneut bestätigen."},
    "review_err_content_gone": {"en": "The latest re-attestation found the content gone: the name is proposed for "
                                      "lifting. Lift it, or an officer re-attests that the content is there.",
                                "fr": "La dernière réattestation constate que le contenu a disparu : le nom est "
                                      "proposé à la levée. Levez-le, ou un officier réatteste que le contenu est là.",
                                "nl": "De laatste nieuwe bevestiging stelt vast dat de inhoud verdwenen is: de naam "
                                      "wordt voorgesteld voor opheffing. Hef hem op, of een agent bevestigt opnieuw "
                                      "dat de inhoud er is.",
                                "de": "Die letzte erneute Bestätigung stellt fest, dass der Inhalt verschwunden ist: "
                                      "der Name ist zur Aufhebung vorgeschlagen. Heben Sie ihn auf, oder ein Beamter "
                                      "bestätigt erneut, dass der Inhalt vorhanden ist."},
    "review_err_raced": {"en": "{name} was changed by someone else at the same time; reload the page.",
                         "fr": "{name} a été modifié par quelqu'un d'autre au même moment ; rechargez la page.",
                         "nl": "{name} werd tegelijk door iemand anders gewijzigd; laad de pagina opnieuw.",
                         "de": "{name} wurde gleichzeitig von jemand anderem geändert; laden Sie die Seite neu."},
    # --- appeals (issue 13): the public appeal form (/appeal) and the magistrates' appeal queue (/appeals) ---
    "appeal_lead": {
        "en": "If you think this block is a mistake, tell us why. A magistrate of the Federal Prosecutor's Office who "
              "took no part in ordering it will examine your appeal.",
        "fr": "Si vous pensez que ce blocage est une erreur, dites-nous pourquoi. Un magistrat du Parquet fédéral qui "
              "n'a pas pris part à la décision de blocage examinera votre recours.",
        "nl": "Denkt u dat deze blokkering een vergissing is, zeg ons dan waarom. Een magistraat van het Federaal "
              "Parket die niet betrokken was bij de beslissing tot blokkering, onderzoekt uw bezwaar.",
        "de": "Wenn Sie diese Sperre für einen Fehler halten, sagen Sie uns warum. Ein Staatsanwalt der Föderalen "
              "Staatsanwaltschaft, der an der Anordnung der Sperre nicht beteiligt war, prüft Ihren Widerspruch."},
    "appeal_phone": {"en": "You may also call {phone}.", "fr": "Vous pouvez aussi appeler le {phone}.",
                     "nl": "U kunt ook {phone} bellen.", "de": "Sie können auch {phone} anrufen."},
    "appeal_name": {"en": "Blocked name (for example site.example)", "fr": "Nom bloqué (par exemple site.example)",
                    "nl": "Geblokkeerde naam (bijvoorbeeld site.example)",
                    "de": "Gesperrter Name (zum Beispiel site.example)"},
    "appeal_text": {"en": "Why you disagree with the block", "fr": "Pourquoi vous contestez ce blocage",
                    "nl": "Waarom u het niet eens bent met de blokkering",
                    "de": "Warum Sie mit der Sperre nicht einverstanden sind"},
    "appeal_contact": {"en": "Your e-mail address (optional, only if you want to receive the answer)",
                       "fr": "Votre adresse e-mail (facultatif, uniquement si vous souhaitez recevoir la réponse)",
                       "nl": "Uw e-mailadres (optioneel, enkel als u het antwoord wilt ontvangen)",
                       "de": "Ihre E-Mail-Adresse (optional, nur wenn Sie die Antwort erhalten möchten)"},
    "appeal_privacy": {
        "en": "We do not keep your IP address, your browser or any cookie with your appeal; your e-mail address only "
              "if you leave one, to send you the answer.",
        "fr": "Nous ne conservons ni votre adresse IP, ni votre navigateur, ni aucun cookie avec votre recours ; "
              "votre adresse e-mail seulement si vous la laissez, pour vous envoyer la réponse.",
        "nl": "Wij bewaren uw IP-adres, uw browser of cookies niet bij uw bezwaar; uw e-mailadres enkel als u het "
              "achterlaat, om u het antwoord te sturen.",
        "de": "Wir speichern weder Ihre IP-Adresse noch Ihren Browser noch ein Cookie mit Ihrem Widerspruch; Ihre "
              "E-Mail-Adresse nur, wenn Sie sie angeben, um Ihnen die Antwort zu senden."},
    "appeal_send": {"en": "Send the appeal", "fr": "Envoyer le recours", "nl": "Bezwaar versturen",
                    "de": "Widerspruch senden"},
    "appeal_thanks": {"en": "Thank you: your appeal has been received.", "fr": "Merci : votre recours a été reçu.",
                      "nl": "Dank u: uw bezwaar is ontvangen.", "de": "Danke: Ihr Widerspruch ist eingegangen."},
    "appeal_next": {
        "en": "What happens next: a magistrate of the Federal Prosecutor's Office who took no part in ordering the "
              "block examines your appeal. If you left an e-mail address, you will receive the decision and its "
              "reason there, in this language. Quote the receipt number if you refer to this appeal.",
        "fr": "La suite : un magistrat du Parquet fédéral qui n'a pas pris part à la décision de blocage examine votre "
              "recours. Si vous avez laissé une adresse e-mail, vous y recevrez la décision et son motif, dans cette "
              "langue. Citez le numéro de réception si vous faites référence à ce recours.",
        "nl": "Wat er nu gebeurt: een magistraat van het Federaal Parket die niet betrokken was bij de beslissing tot "
              "blokkering, onderzoekt uw bezwaar. Als u een e-mailadres achterliet, ontvangt u daar de beslissing en "
              "de reden ervan, in deze taal. Vermeld het ontvangstnummer als u naar dit bezwaar verwijst.",
        "de": "Wie es weitergeht: ein Staatsanwalt der Föderalen Staatsanwaltschaft, der an der Anordnung der Sperre "
              "nicht beteiligt war, prüft Ihren Widerspruch. Wenn Sie eine E-Mail-Adresse angegeben haben, erhalten "
              "Sie dort die Entscheidung und ihre Begründung in dieser Sprache. Nennen Sie die Eingangsnummer, wenn "
              "Sie sich auf diesen Widerspruch beziehen."},
    "appeal_refused": {"en": "Appeal not sent", "fr": "Recours non envoyé", "nl": "Bezwaar niet verstuurd",
                       "de": "Widerspruch nicht gesendet"},
    "appeal_err_name_missing": {"en": "Give the blocked name (for example site.example).",
                                "fr": "Indiquez le nom bloqué (par exemple site.example).",
                                "nl": "Geef de geblokkeerde naam (bijvoorbeeld site.example).",
                                "de": "Geben Sie den gesperrten Namen an (zum Beispiel site.example)."},
    "appeal_err_not_a_name": {
        "en": "This is not a site name (for example site.example); check what you typed.",
        "fr": "Ce n'est pas un nom de site (par exemple site.example) ; vérifiez votre saisie.",
        "nl": "Dit is geen sitenaam (bijvoorbeeld site.example); controleer wat u typte.",
        "de": "Das ist kein Seitenname (zum Beispiel site.example); prüfen Sie Ihre Eingabe."},
    "appeal_err_text_missing": {"en": "Say why you disagree with the block.",
                                "fr": "Dites pourquoi vous contestez ce blocage.",
                                "nl": "Zeg waarom u het niet eens bent met de blokkering.",
                                "de": "Sagen Sie, warum Sie mit der Sperre nicht einverstanden sind."},
    "appeal_err_bad_contact": {"en": "“{field}” is not an e-mail address (for example name@example.org).",
                               "fr": "« {field} » n'est pas une adresse e-mail (par exemple nom@example.org).",
                               "nl": "„{field}” is geen e-mailadres (bijvoorbeeld naam@example.org).",
                               "de": "„{field}“ ist keine E-Mail-Adresse (zum Beispiel name@example.org)."},
    "appeal_err_bad_language": {"en": "Choose one of the page's languages.", "fr": "Choisissez une langue de la page.",
                                "nl": "Kies een van de talen van de pagina.",
                                "de": "Wählen Sie eine der Sprachen der Seite."},
    "appeal_err_honeypot": {
        "en": "The appeal was refused: a field meant to stay empty was filled in (this happens with automatic form "
              "fillers). Nothing was stored; send the form again with that field empty.",
        "fr": "Le recours a été refusé : un champ qui doit rester vide a été rempli (cela arrive avec le remplissage "
              "automatique). Rien n'a été enregistré ; renvoyez le formulaire avec ce champ vide.",
        "nl": "Het bezwaar werd geweigerd: een veld dat leeg moet blijven, was ingevuld (dat gebeurt bij automatisch "
              "invullen). Er werd niets bewaard; verstuur het formulier opnieuw met dat veld leeg.",
        "de": "Der Widerspruch wurde abgelehnt: ein Feld, das leer bleiben muss, war ausgefüllt (das passiert beim "
              "automatischen Ausfüllen). Nichts wurde gespeichert; senden Sie das Formular mit leerem Feld erneut."},
    "appeal_err_limited": {
        "en": "Too many appeals came from your address. Nothing was stored; try again in {minutes} minutes.",
        "fr": "Trop de recours sont venus de votre adresse. Rien n'a été enregistré ; réessayez dans {minutes} "
              "minutes.",
        "nl": "Er kwamen te veel bezwaren van uw adres. Er werd niets bewaard; probeer het over {minutes} minuten "
              "opnieuw.",
        "de": "Von Ihrer Adresse kamen zu viele Widersprüche. Nichts wurde gespeichert; versuchen Sie es in "
              "{minutes} Minuten erneut."},
    "appeal_err_too_large": {"en": "The form is far too large. Nothing was stored.",
                             "fr": "Le formulaire est beaucoup trop volumineux. Rien n'a été enregistré.",
                             "nl": "Het formulier is veel te groot. Er werd niets bewaard.",
                             "de": "Das Formular ist viel zu groß. Nichts wurde gespeichert."},
    "appeals": {"en": "Appeals", "fr": "Recours", "nl": "Bezwaren", "de": "Widersprüche"},
    "appeals_title": {"en": "Appeals from the public", "fr": "Recours du public", "nl": "Bezwaren van het publiek",
                      "de": "Widersprüche der Öffentlichkeit"},
    "appeals_state_open": {"en": "awaiting a decision", "fr": "en attente de décision", "nl": "wachten op beslissing",
                           "de": "warten auf Entscheidung"},
    "appeals_state_decided": {"en": "decided", "fr": "décidés", "nl": "beslist", "de": "entschieden"},
    "appeals_state_all": {"en": "all", "fr": "tous", "nl": "alle", "de": "alle"},
    "appeals_empty": {"en": "No appeal here.", "fr": "Aucun recours ici.", "nl": "Geen bezwaren hier.",
                      "de": "Keine Widersprüche hier."},
    "appeal_received": {"en": "Received", "fr": "Reçu le", "nl": "Ontvangen op", "de": "Eingegangen am"},
    "appeal_record": {"en": "The name's record", "fr": "Dossier du nom", "nl": "Dossier van de naam",
                      "de": "Akte des Namens"},
    "appeal_uphold": {"en": "Uphold (lift the block)", "fr": "Accueillir (lever le blocage)",
                      "nl": "Gegrond verklaren (blokkering opheffen)", "de": "Stattgeben (Sperre aufheben)"},
    "appeal_dismiss": {"en": "Dismiss", "fr": "Rejeter", "nl": "Ongegrond verklaren", "de": "Zurückweisen"},
    "appeal_decision": {"en": "Decision", "fr": "Décision", "nl": "Beslissing", "de": "Entscheidung"},
    "appeal_outcome_upheld": {"en": "upheld", "fr": "accueilli", "nl": "gegrond", "de": "stattgegeben"},
    "appeal_outcome_dismissed": {"en": "dismissed", "fr": "rejeté", "nl": "ongegrond", "de": "zurückgewiesen"},
    "appeal_answer_lifted": {"en": "block lifted", "fr": "blocage levé", "nl": "blokkering opgeheven",
                             "de": "Sperre aufgehoben"},
    "appeal_answer_kept": {"en": "block kept", "fr": "blocage maintenu", "nl": "blokkering behouden",
                           "de": "Sperre bleibt"},
    "appeal_answer_not_blocked": {"en": "the name was not blocked", "fr": "le nom n'était pas bloqué",
                                  "nl": "de naam was niet geblokkeerd", "de": "der Name war nicht gesperrt"},
    "appeal_mail_none": {"en": "no contact left: no answer to send", "fr": "aucun contact laissé : pas de réponse",
                         "nl": "geen contact achtergelaten: geen antwoord", "de": "kein Kontakt: keine Antwort"},
    "appeal_mail_pending": {"en": "answer to be e-mailed", "fr": "réponse à envoyer par e-mail",
                            "nl": "antwoord nog te mailen", "de": "Antwort wird gemailt"},
    "appeal_mail_sent": {"en": "answer e-mailed", "fr": "réponse envoyée par e-mail", "nl": "antwoord gemaild",
                         "de": "Antwort gemailt"},
    "appeal_mail_failed": {"en": "the answer could not be e-mailed", "fr": "la réponse n'a pas pu être envoyée",
                           "nl": "het antwoord kon niet gemaild worden",
                           "de": "die Antwort konnte nicht gemailt werden"},
    "appeal_err_four_eyes": {
        "en": "Four eyes: you approved the block of {name}; another magistrate must decide this appeal.",
        "fr": "Quatre yeux : vous avez approuvé le blocage de {name} ; un autre magistrat doit décider de ce recours.",
        "nl": "Vier ogen: u hebt de blokkering van {name} goedgekeurd; een andere magistraat moet over dit bezwaar "
              "beslissen.",
        "de": "Vier Augen: Sie haben die Sperre von {name} genehmigt; ein anderer Staatsanwalt muss über diesen "
              "Widerspruch entscheiden."},
    "msg_appeal_decided": {"en": "appeal {receipt}: {outcome}", "fr": "recours {receipt} : {outcome}",
                           "nl": "bezwaar {receipt}: {outcome}", "de": "Widerspruch {receipt}: {outcome}"},
    # --- takedown first (issue 13): hosting of a submission, removal notices to Belgian hosting providers ---
    "hosting": {"en": "Where the site is hosted", "fr": "Hébergement du site", "nl": "Hosting van de site",
                "de": "Hosting der Website"},
    "hosting_country": {"en": "Hosting country", "fr": "Pays d'hébergement", "nl": "Land van hosting",
                        "de": "Hosting-Land"},
    "hosting_country_choose": {"en": "— choose the country —", "fr": "— choisir le pays —", "nl": "— kies het land —",
                               "de": "— Land wählen —"},
    "hosting_provider": {"en": "Hosting provider (if known)", "fr": "Hébergeur (si connu)",
                         "nl": "Hostingprovider (indien gekend)", "de": "Hosting-Anbieter (falls bekannt)"},
    "hosting_abuse_email": {"en": "The provider's abuse e-mail address (if known)",
                            "fr": "Adresse abuse de l'hébergeur (si connue)",
                            "nl": "Abuse-e-mailadres van de provider (indien gekend)",
                            "de": "Abuse-E-Mail-Adresse des Anbieters (falls bekannt)"},
    "notice_language": {"en": "Language of the removal notice (hosting in Belgium)",
                        "fr": "Langue de la notification de retrait (hébergement en Belgique)",
                        "nl": "Taal van de kennisgeving tot verwijdering (hosting in België)",
                        "de": "Sprache der Entfernungsmitteilung (Hosting in Belgien)"},
    "removal_notices": {"en": "Removal notices", "fr": "Notifications de retrait",
                        "nl": "Kennisgevingen tot verwijdering", "de": "Entfernungsmitteilungen"},
    "removal_all": {"en": "all", "fr": "toutes", "nl": "alle", "de": "alle"},
    "removal_status_pending": {"en": "to be sent", "fr": "à envoyer", "nl": "te verzenden", "de": "zu senden"},
    "removal_status_sent": {"en": "sent", "fr": "envoyée", "nl": "verzonden", "de": "gesendet"},
    "removal_status_no_address": {"en": "no address: deliver by hand",
                                  "fr": "pas d'adresse : à remettre en main propre",
                                  "nl": "geen adres: met de hand te bezorgen",
                                  "de": "keine Adresse: persönlich zustellen"},
    "removal_status_failed": {"en": "delivery failed", "fr": "échec de l'envoi", "nl": "verzending mislukt",
                              "de": "Zustellung fehlgeschlagen"},
    "removal_status_acknowledged": {"en": "acknowledged by the provider", "fr": "reçue par l'hébergeur",
                                    "nl": "ontvangst bevestigd door de provider", "de": "vom Anbieter bestätigt"},
    "removal_status_removed": {"en": "site removed", "fr": "site retiré", "nl": "site verwijderd",
                               "de": "Website entfernt"},
    "removal_reference": {"en": "Reference", "fr": "Référence", "nl": "Referentie", "de": "Aktenzeichen"},
    "removal_provider": {"en": "Hosting provider", "fr": "Hébergeur", "nl": "Hostingprovider",
                         "de": "Hosting-Anbieter"},
    "removal_issued": {"en": "Issued", "fr": "Émise", "nl": "Uitgegeven", "de": "Ausgestellt"},
    "removal_acknowledge": {"en": "Acknowledged by the provider", "fr": "Réception confirmée par l'hébergeur",
                            "nl": "Ontvangst bevestigd door de provider", "de": "Vom Anbieter bestätigt"},
    "removal_removed": {"en": "Site removed", "fr": "Site retiré", "nl": "Site verwijderd", "de": "Website entfernt"},
    "removal_on": {"en": "Date", "fr": "Date", "nl": "Datum", "de": "Datum"},
    "removal_ack_reference": {"en": "The provider's reference (optional)",
                              "fr": "Référence de l'hébergeur (facultatif)",
                              "nl": "Referentie van de provider (optioneel)",
                              "de": "Referenz des Anbieters (optional)"},
    "removal_evidence": {"en": "Evidence reference of the removal", "fr": "Référence de la preuve du retrait",
                         "nl": "Bewijsreferentie van de verwijdering", "de": "Beweisreferenz der Entfernung"},
    "removal_record": {"en": "Record", "fr": "Enregistrer", "nl": "Registreren", "de": "Erfassen"},
    "msg_removal_acknowledged": {"en": "{reference}: acknowledgement recorded",
                                 "fr": "{reference} : accusé de réception enregistré",
                                 "nl": "{reference}: ontvangstbevestiging geregistreerd",
                                 "de": "{reference}: Bestätigung erfasst"},
    "msg_removal_removed": {"en": "{reference}: removal of {name} recorded; proposed to the magistrates for lifting",
                            "fr": "{reference} : retrait de {name} enregistré ; levée proposée aux magistrats",
                            "nl": "{reference}: verwijdering van {name} geregistreerd; opheffing voorgesteld aan de "
                                  "magistraten",
                            "de": "{reference}: Entfernung von {name} erfasst; den Magistraten zur Aufhebung "
                                  "vorgeschlagen"},
    "removal_proposed": {"en": "Removal confirmed — proposed for lifting", "fr": "Retrait confirmé — levée proposée",
                         "nl": "Verwijdering bevestigd — opheffing voorgesteld",
                         "de": "Entfernung bestätigt — Aufhebung vorgeschlagen"},
    "removal_proposed_hint": {"en": "The hosting provider removed these sites; each block stays in place until a "
                                    "magistrate lifts it.",
                              "fr": "L'hébergeur a retiré ces sites ; chaque blocage reste en place jusqu'à sa levée "
                                    "par un magistrat.",
                              "nl": "De hostingprovider heeft deze sites verwijderd; elke blokkering blijft tot een "
                                    "magistraat ze opheft.",
                              "de": "Der Hosting-Anbieter hat diese Websites entfernt; jede Sperre bleibt bis zur "
                                    "Aufhebung durch einen Magistrat bestehen."},
    "removal_removed_on": {"en": "Removed on", "fr": "Retiré le", "nl": "Verwijderd op", "de": "Entfernt am"},
}


def translator(language: str) -> dict[str, str]:
    """The words in one language (English where a word is missing)."""
    lang = language if language in LANGUAGES else "en"
    return {key: words.get(lang, words["en"]) for key, words in CATALOG.items()}


def t(key: str, language: str, **values: object) -> str:
    """One message in one language, with its {placeholders} filled."""
    words = CATALOG[key]
    return words.get(language, words["en"]).format(**values)


def legal_basis_titles(language: str) -> dict[str, str]:
    """The three legal bases' titles in one language (the stop page's wording)."""
    return LEGAL_BASIS_TITLES.get(language, LEGAL_BASIS_TITLES["en"])
