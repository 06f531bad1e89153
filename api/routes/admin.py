"""Administration: accounts and ISPs (administrators cannot decide on blocks), and the caller's identity."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from api.deps import allowed, current_user, session
from api.params import DbId
from api.routes.responses import write
from api.schemas import ActiveIn, IspIn, RoleIn, UserIn, user_out
from blocklist import isps, permissions, users
from blocklist.models import Isp, User

router = APIRouter(tags=["administration"])
admin = allowed(permissions.MANAGE)


def isp_out(isp: Isp) -> dict[str, Any]:
    """An ISP as the API shows it (never its credential)."""
    return {"id": isp.id, "name": isp.name, "operator_id": isp.operator_id, "email": isp.email,
            "language": isp.language, "policy": isp.policy, "active": isp.active,
            "resolvers": [f"{r.address}:{r.port}" for r in isp.resolvers], "credential_prefix": isp.feed_token_prefix}


@router.get("/me", summary="Who am I")
def me(user: User = Depends(current_user)) -> dict[str, Any]:
    """The account behind the token."""
    return user_out(user)


@router.get("/users", summary="Every account")
def list_users(db: Session = Depends(session), _: User = Depends(admin)) -> list[dict[str, Any]]:
    """Accounts are never deleted, only disabled."""
    return [user_out(u) for u in users.list_users(db)]


@router.post("/users", status_code=201, summary="Create an account (to be confirmed by a second administrator)",
             responses=write(201))
def create_user(body: UserIn, db: Session = Depends(session), actor: User = Depends(admin)) -> dict[str, Any]:
    """201 with the account, which holds no credential and can do nothing until another administrator confirms
    it; the person enrols with a one-time link that the operator on the server gives them."""
    user = users.create_account(db, actor=actor, username=body.username, role=body.role,
                                display_name=body.display_name, language=body.language, email=body.email)
    return user_out(user)


@router.post("/users/{username}/confirm", summary="Confirm an account another administrator made or changed",
             responses=write(200, 404, body=False))
def confirm_user(username: str, db: Session = Depends(session), actor: User = Depends(admin)) -> dict[str, Any]:
    """403 for the administrator who made the change (four eyes), 409 when already confirmed."""
    return user_out(users.confirm(db, actor=actor, user=users.get_user(db, username)))


@router.post("/users/{username}/role", summary="Give an account another role (to be confirmed)",
             responses=write(200, 404))
def set_user_role(username: str, body: RoleIn, db: Session = Depends(session),
                  actor: User = Depends(admin)) -> dict[str, Any]:
    """The account can do nothing until a second administrator confirms the new role."""
    return user_out(users.set_role(db, actor=actor, user=users.get_user(db, username), role=body.role))


@router.post("/users/{username}/active", summary="Disable or re-enable an account", responses=write(200, 404))
def set_user_active(username: str, body: ActiveIn, db: Session = Depends(session),
                    actor: User = Depends(admin)) -> dict[str, Any]:
    """Disabled accounts cannot log in or use tokens."""
    return user_out(users.set_active(db, actor=actor, user=users.get_user(db, username), active=body.active))


@router.post("/users/{username}/token", summary="Revoke the account's tokens and password (the person re-enrols)",
             responses=write(200, 404, body=False))
def reset_token(username: str, db: Session = Depends(session), actor: User = Depends(admin)) -> dict[str, Any]:
    """No new credential is returned: an administrator never holds another person's. The person re-enrols with
    a link from the operator, and the account waits for a second administrator's confirmation."""
    return user_out(users.revoke_credentials(db, actor=actor, user=users.get_user(db, username)))


@router.get("/isps", summary="Every ISP")
def list_isps(db: Session = Depends(session), _: User = Depends(admin)) -> list[dict[str, Any]]:
    """Active and inactive."""
    return [isp_out(i) for i in isps.list_isps(db)]


@router.post("/isps", status_code=201, summary="Register an ISP (its feed credential is shown once)",
             responses=write(201))
def create_isp(body: IspIn, db: Session = Depends(session), actor: User = Depends(admin)) -> dict[str, Any]:
    """An invalid e-mail address or resolver is refused (422)."""
    isp, credential = isps.add_isp(db, actor=actor, name=body.name, email=body.email, language=body.language,
                                   resolvers=body.resolvers, policy=body.policy, operator_id=body.operator_id)
    return {**isp_out(isp), "credential": credential}


@router.post("/isps/{isp_id}/active", summary="Activate or deactivate an ISP", responses=write(200, 404))
def set_isp_active(isp_id: DbId, body: ActiveIn, db: Session = Depends(session),
                   actor: User = Depends(admin)) -> dict[str, Any]:
    """An inactive ISP gets no requisitions and cannot pull the feed."""
    return isp_out(isps.set_active(db, actor=actor, isp=isps.get_isp(db, isp_id), active=body.active))


@router.post("/isps/{isp_id}/credential", summary="Replace the ISP's feed credential",
             responses=write(200, 404, body=False))
def rotate_credential(isp_id: DbId, db: Session = Depends(session), actor: User = Depends(admin)) -> dict[str, Any]:
    """The old credential stops working at once; the new one is shown once."""
    return {"isp_id": isp_id, "credential": isps.rotate_credential(db, actor=actor, isp=isps.get_isp(db, isp_id))}
