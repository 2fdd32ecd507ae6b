"""``waitlist user``: accounts for people and service accounts, and API tokens."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from app.cli.common import console, emit_json, errors, load_settings, unit_of_work
from app.errors import DomainError
from app.models import Role
from app.users.passwords import check_strength
from app.users.service import (
    assign_role,
    create_user,
    deactivate_user,
    get_user,
    list_users,
    set_password,
)
from app.users.tokens import issue_api_token, revoke_api_token
from app.users.totp import begin_enrolment, reset_second_factor

app = typer.Typer(help="People, service accounts and API tokens.", no_args_is_help=True)


def _role(role: Role | None) -> str:
    return role.value if role else "none"


def _fail(error: DomainError) -> typer.Exit:
    errors.print(f"[red]{error}[/red]")
    return typer.Exit(1)


def _read_password(username: str, full_name: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        errors.print("[red]No terminal to ask for a password: pass --password-stdin.[/red]")
        raise typer.Exit(2)
    while True:
        password: str = typer.prompt("Password", hide_input=True)
        try:
            check_strength(password, username=username, full_name=full_name)
        except DomainError as error:
            errors.print(f"[red]{error}[/red]")
            continue
        if typer.prompt("Password again", hide_input=True) == password:
            return password
        errors.print("[red]The passwords did not match.[/red]")


@app.command()
def create(
    username: Annotated[str, typer.Option(help="Sign-in name (no spaces).")],
    full_name: Annotated[str, typer.Option(help="The person's name as colleagues know it.")],
    role: Annotated[Role, typer.Option(help="clinician, coordinator or admin.")],
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    service_account: bool = typer.Option(
        False, "--service-account", help="A machine client: no password, uses API tokens."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Add a person (asks for a password) or a service account."""
    password = None if service_account else _read_password(username, full_name, password_stdin)
    try:
        with unit_of_work() as session:
            user = create_user(
                session,
                username=username,
                full_name=full_name,
                role=role,
                password=password,
                service_account=service_account,
                actor="cli",
            )
            summary = {
                "id": user.id,
                "username": user.username,
                "role": _role(user.role),
                "service_account": user.is_service_account,
            }
    except DomainError as error:
        raise _fail(error) from error
    if json_output:
        emit_json(summary)
    else:
        console.print(f"Created {summary['username']} ({summary['role']}).")


@app.command()
def token(
    username: str = typer.Option(..., help="The service account."),
    name: str = typer.Option(..., help="What will use the token, e.g. 'PAS nightly extract'."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Issue an API token for a service account; it is shown once and never again."""
    try:
        with unit_of_work() as session:
            issued = issue_api_token(
                session, user=get_user(session, username=username), name=name, actor="cli"
            )
            token_id = issued.record.id
    except DomainError as error:
        raise _fail(error) from error
    if json_output:
        emit_json({"id": token_id, "username": username, "name": name, "token": issued.value})
        return
    # The message is a diagnostic; stdout gets the token alone, so `> file` stores just that.
    errors.print(f"Token {token_id} for {username}. Store it now; it will not be shown again:")
    sys.stdout.write(issued.value + "\n")


@app.command("list")
def list_command(
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Every account with its role and state."""
    with unit_of_work() as session:
        rows = [
            {
                "id": user.id,
                "username": user.username,
                "full_name": user.full_name,
                "role": _role(user.role),
                "service_account": user.is_service_account,
                "active": user.is_active,
                "signs_in_with": "identity provider" if user.oidc_subject else "local account",
                "second_factor": user.totp_confirmed_at is not None,
                "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
            }
            for user in list_users(session)
        ]
    if json_output:
        emit_json({"users": rows})
        return
    for row in rows:
        kind = (
            "service account" if row["service_account"] else f"signs in with {row['signs_in_with']}"
        )
        state = "" if row["active"] else ", deactivated"
        totp = ", TOTP" if row["second_factor"] else ""
        sys.stdout.write(
            f"{row['username']}\t{row['role']}\t{row['full_name']} ({kind}{totp}{state})\n"
        )


@app.command()
def password(
    username: Annotated[str, typer.Option(help="Whose password to change.")],
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
) -> None:
    """Set a new password; every session the person has open ends."""
    try:
        with unit_of_work() as session:
            user = get_user(session, username=username)
            name, full_name = user.username, user.full_name
        # Ask outside any transaction: a prompt must not hold the database's write lock.
        new = _read_password(name, full_name, password_stdin)
        with unit_of_work() as session:
            set_password(session, user=get_user(session, username=name), password=new, actor="cli")
    except DomainError as error:
        raise _fail(error) from error
    console.print(f"Password changed for {username}; their sessions have ended.")


@app.command()
def deactivate(username: Annotated[str, typer.Option(help="The account to stop.")]) -> None:
    """Stop an account: no sign-in, no API tokens, open sessions end at once."""
    try:
        with unit_of_work() as session:
            deactivate_user(session, user=get_user(session, username=username), actor="cli")
    except DomainError as error:
        raise _fail(error) from error
    console.print(f"Deactivated {username}.")


@app.command("revoke-token")
def revoke_token(token_id: Annotated[int, typer.Option("--id", help="The token's id.")]) -> None:
    """Stop an API token from working (its id was printed when it was issued)."""
    try:
        with unit_of_work() as session:
            revoke_api_token(session, token_id=token_id, actor="cli")
    except DomainError as error:
        raise _fail(error) from error
    console.print(f"Revoked token {token_id}.")


@app.command()
def role(
    username: Annotated[str, typer.Option(help="Whose role to set.")],
    role: Annotated[
        str, typer.Option(help="clinician, coordinator or admin; 'none' takes access away.")
    ],
) -> None:
    """Give a person a role here (it stands until the identity provider's claims name one)."""
    if role not in {*(member.value for member in Role), "none"}:
        errors.print("[red]The role is clinician, coordinator, admin or none.[/red]")
        raise typer.Exit(2)
    try:
        with unit_of_work() as session:
            user = get_user(session, username=username)
            assign_role(
                session, user=user, role=None if role == "none" else Role(role), actor="cli"
            )
    except DomainError as error:
        raise _fail(error) from error
    console.print(f"{username} is now {role}.")


@app.command("totp-enrol")
def totp_enrol(
    username: Annotated[str, typer.Option(help="The local account to give a second factor.")],
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Start a TOTP second factor: the secret is shown once; the first code confirms it."""
    settings = load_settings()
    try:
        with unit_of_work() as session:
            enrolment = begin_enrolment(
                session,
                user=get_user(session, username=username),
                secret_key=settings.secret_key.get_secret_value(),
                issuer_name=settings.organisation_name,
                actor="cli",
            )
    except DomainError as error:
        raise _fail(error) from error
    if json_output:
        emit_json({"username": username, "secret": enrolment.secret, "otpauth_uri": enrolment.uri})
        return
    errors.print(
        f"Scan this with {username}'s authenticator app; it will not be shown again. "
        "Their first sign-in code confirms it."
    )
    sys.stdout.write(enrolment.qr_text() + "\n" + enrolment.uri + "\n")


@app.command("totp-reset")
def totp_reset(
    username: Annotated[str, typer.Option(help="Whose second factor to remove (a lost phone).")],
) -> None:
    """Remove a TOTP second factor; an admin then needs a new one before signing in."""
    try:
        with unit_of_work() as session:
            reset_second_factor(session, user=get_user(session, username=username), actor="cli")
    except DomainError as error:
        raise _fail(error) from error
    console.print(f"Second factor removed for {username}; their sessions have ended.")
