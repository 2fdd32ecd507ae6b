"""Driving pages through the ASGI client: sign in, read CSRF tokens, post forms."""

from __future__ import annotations

import re

import httpx

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token_in(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str, *, next_path: str = "/"
) -> httpx.Response:
    """Sign in through the real form; returns the response to the form post."""
    form = await client.get("/sign-in")
    return await client.post(
        "/sign-in",
        data={
            "csrf_token": csrf_token_in(form.text),
            "username": username,
            "password": password,
            "next": next_path,
        },
    )


async def signed_in_csrf(client: httpx.AsyncClient) -> str:
    """The signed-in session's CSRF token (read from the home page's sign-out form)."""
    response = await client.get("/")
    assert response.status_code == 200, response.status_code
    return csrf_token_in(response.text)
