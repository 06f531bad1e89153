"""Administration: accounts and ISPs (administrators cannot decide on blocks), and the caller's identity."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from api.deps import allowed, current_user, runtime, session
from api.params import DbId
from api.routes.responses import errors, write
from api.runtime import Runtime
from api.schemas import (
    ActiveIn,
    CredentialOut,
    IspCreatedOut,
    IspIn,
    IspOut,
    ProfileIn,
    RoleIn,
    SecondariesIn,
    SecondaryOut,
    TokenOut,
    TsigKeyOut,
    UserIn,
    UserOut,
)
from blocklist import isps, permissions, users
from blocklist.models import Isp, User
from isp_feed import primary

router = APIRouter(tags=["administration"])
admin = allowed(permissions.MANAGE)


@router.get("/me", response_model=UserOut, summary="Who am I")
def me(user: User = Depends(current_user)) -> UserOut:
    """The account behind the token."""
    return UserOut.of(user)


@router.get("/users", response_model=list[UserOut], summary="Every account")
def list_users(db: Session = Depends(session), _: User = Depends(admin)) -> list[UserOut]:
    """Accounts are never deleted, only disabled."""
    return [UserOut.of(u) for u in users.list_users(db)]


@router.post("/users", status_code=201, response_model=UserOut,
             summary="Create an account (to be confirmed by a second administrator)", responses=write(201))
def create_user(body: UserIn, db: Session = Depends(session), actor: User = Depends(admin)) -> UserOut:
    """201 with the account, which holds no credential and can do nothing until another administrator confirms
    it; the person enrols with a one-time link that the operator on the server gives them."""
    user = users.create_account(db, actor=actor, username=body.username, role=body.role,
                                display_name=body.display_name, language=body.language, email=body.email)
    return UserOut.of(user)


@router.get("/users/{username}", response_model=UserOut, summary="One account", responses=errors(404))
def get_user(username: str, db: Session = Depends(session), _: User = Depends(admin)) -> UserOut:
    """Its role, language, state and who made or confirmed its last change."""
    return UserOut.of(users.get_user(db, username))


@router.post("/users/{username}/profile", response_model=UserOut,
             summary="Change an account's display name, language or e-mail address", responses=write(200, 404))
def update_profile(username: str, body: ProfileIn, db: Session = Depends(session),
                   actor: User = Depends(admin)) -> UserOut:
    """Fields left out stay as they are. A new e-mail address waits for a second administrator's confirmation
    (enrolment links are sent there)."""
    return UserOut.of(users.update_profile(db, actor=actor, user=users.get_user(db, username),
                                           display_name=body.display_name, language=body.language,
                                           email=body.email))


@router.get("/users/{username}/tokens", response_model=list[TokenOut],
            summary="The account's API tokens (prefixes only), newest first", responses=errors(404))
def list_tokens(username: str, db: Session = Depends(session), _: User = Depends(admin)) -> list[TokenOut]:
    """Revoked ones too; a token's secret is never kept, only its SHA-256 and first characters."""
    return [TokenOut.of(t) for t in users.tokens_of(db, users.get_user(db, username))]


@router.post("/users/{username}/tokens/{token_id}/revoke", response_model=TokenOut,
             summary="Revoke one API token of the account", responses=write(200, 404, body=False))
def revoke_token(username: str, token_id: DbId, db: Session = Depends(session),
                 actor: User = Depends(admin)) -> TokenOut:
    """It stops working at once; 409 when it was already revoked."""
    return TokenOut.of(users.revoke_token(db, actor=actor, user=users.get_user(db, username), token_id=token_id))


@router.post("/users/{username}/enrolment", response_model=UserOut,
             summary="E-mail the person a one-time link to set their own password",
             responses=write(200, 404, 502, body=False))
def mail_enrolment(username: str, db: Session = Depends(session), rt: Runtime = Depends(runtime),
                   actor: User = Depends(admin)) -> UserOut:
    """For an account without a password: the link goes to the address on the account and is never shown to the
    administrator; the account then waits for a second administrator's confirmation. 409 when it has a password,
    422 without an e-mail address, 502 when the mail server refused the message (nothing was written)."""
    return UserOut.of(users.mail_enrolment(db, actor=actor, user=users.get_user(db, username), settings=rt.settings))


@router.post("/users/{username}/confirm", response_model=UserOut,
             summary="Confirm an account another administrator made or changed",
             responses=write(200, 404, body=False))
def confirm_user(username: str, db: Session = Depends(session), actor: User = Depends(admin)) -> UserOut:
    """403 for the administrator who made the change (four eyes), 409 when already confirmed."""
    return UserOut.of(users.confirm(db, actor=actor, user=users.get_user(db, username)))


@router.post("/users/{username}/role", response_model=UserOut,
             summary="Give an account another role (to be confirmed)", responses=write(200, 404))
def set_user_role(username: str, body: RoleIn, db: Session = Depends(session),
                  actor: User = Depends(admin)) -> UserOut:
    """The account can do nothing until a second administrator confirms the new role."""
    return UserOut.of(users.set_role(db, actor=actor, user=users.get_user(db, username), role=body.role))


@router.post("/users/{username}/active", response_model=UserOut, summary="Disable or re-enable an account",
             responses=write(200, 404))
def set_user_active(username: str, body: ActiveIn, db: Session = Depends(session),
                    actor: User = Depends(admin)) -> UserOut:
    """Disabled accounts cannot log in or use tokens. 409: your own account, or the last administrator who can
    act."""
    return UserOut.of(users.set_active(db, actor=actor, user=users.get_user(db, username), active=body.active))


@router.post("/users/{username}/token", response_model=UserOut,
             summary="Revoke the account's tokens and password (the person re-enrols)",
             responses=write(200, 404, body=False))
def reset_token(username: str, db: Session = Depends(session), actor: User = Depends(admin)) -> UserOut:
    """No new credential is returned: an administrator never holds another person's. The person re-enrols with
    a link from the operator, and the account waits for a second administrator's confirmation."""
    return UserOut.of(users.revoke_credentials(db, actor=actor, user=users.get_user(db, username)))


@router.get("/isps", response_model=list[IspOut], summary="Every ISP")
def list_isps(db: Session = Depends(session), _: User = Depends(admin)) -> list[IspOut]:
    """Active and inactive."""
    return [IspOut.of(i) for i in isps.list_isps(db)]


@router.post("/isps", status_code=201, response_model=IspCreatedOut,
             summary="Register an ISP (its feed credential is shown once)", responses=write(201))
def create_isp(body: IspIn, db: Session = Depends(session), rt: Runtime = Depends(runtime),
               actor: User = Depends(admin)) -> IspCreatedOut:
    """An invalid e-mail address or resolver is refused (422). The answer holds its feed credential and its TSIG
    key for zone transfers, each shown this once."""
    isp, credential = isps.add_isp(db, actor=actor, name=body.name, email=body.email, language=body.language,
                                   resolvers=body.resolvers, policy=body.policy, operator_id=body.operator_id)
    return IspCreatedOut.created(isp, credential, _new_tsig(db, rt, actor, isp))


def _new_tsig(db: Session, rt: Runtime, actor: User, isp: Isp) -> TsigKeyOut:
    key = primary.issue_key(db, rt.settings, actor=actor, isp=isp)
    return TsigKeyOut(isp_id=isp.id, key_name=key.name, secret=key.secret)


@router.post("/isps/{isp_id}/active", response_model=IspOut, summary="Activate or deactivate an ISP",
             responses=write(200, 404))
def set_isp_active(isp_id: DbId, body: ActiveIn, db: Session = Depends(session),
                   actor: User = Depends(admin)) -> IspOut:
    """An inactive ISP gets no requisitions and cannot pull the feed."""
    return IspOut.of(isps.set_active(db, actor=actor, isp=isps.get_isp(db, isp_id), active=body.active))


@router.post("/isps/{isp_id}/credential", response_model=CredentialOut, summary="Replace the ISP's feed credential",
             responses=write(200, 404, body=False))
def rotate_credential(isp_id: DbId, db: Session = Depends(session), actor: User = Depends(admin)) -> CredentialOut:
    """The old credential stops working at once; the new one is shown once."""
    credential = isps.rotate_credential(db, actor=actor, isp=isps.get_isp(db, isp_id))
    return CredentialOut(isp_id=isp_id, credential=credential)


@router.post("/isps/{isp_id}/tsig", response_model=TsigKeyOut, summary="Replace the ISP's TSIG key for zone transfers",
             responses=write(200, 404, body=False))
def rotate_tsig(isp_id: DbId, db: Session = Depends(session), rt: Runtime = Depends(runtime),
                actor: User = Depends(admin)) -> TsigKeyOut:
    """The new secret is shown once; the old key stops working when the hidden primary's configuration is next
    written (the `feed.primary_sync` job, within seconds)."""
    return _new_tsig(db, rt, actor, isps.get_isp(db, isp_id))


@router.put("/isps/{isp_id}/secondaries", response_model=list[SecondaryOut],
            summary="Replace the ISP's secondaries (NOTIFY and zone transfer)", responses=write(200, 404))
def set_secondaries(isp_id: DbId, body: SecondariesIn, db: Session = Depends(session),
                    actor: User = Depends(admin)) -> list[SecondaryOut]:
    """A secondary given twice or an address that is not an IP is refused (422)."""
    rows = isps.set_secondaries(db, actor=actor, isp=isps.get_isp(db, isp_id), signed=body.signed,
                                unsigned=body.unsigned)
    return [SecondaryOut(address=r.address, port=r.port, tsig=r.tsig) for r in rows]
