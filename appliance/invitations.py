"""Domain: what reaches operators by email — password reset, invitations, sharing, joining.

Links are built from the instance's own public URL (OFFEN_APP_PUBLICURL),
never from a host the client sent: Offen used a client-supplied URL template,
so anyone could make it mail a genuine reset token inside a link to any host
(reference §3.3). Tokens are signed with OFFEN_SECRET; a reset token carries
the one-time key that unwraps the KEKs, so it only ever travels in the mail.

Mails are written in the instance's locale (OFFEN_APP_LOCALE, `locale`), from
the templates in `appliance.mailtemplates`: the recipient of a reset or an
invitation has chosen no language the server could know of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from appliance import keys, mailtemplates
from appliance.credentials import (
    EMAIL_WRAP,
    ONE_TIME_WRAP,
    PASSWORD_WRAP,
    Credentials,
    normalize_email,
    rewrap,
    validate_password,
)
from appliance.errors import BadRequest, Conflict, CryptoError, Forbidden, InvalidToken, OffenError
from appliance.logins import Session, verify_requester
from appliance.mailer import Mailer
from appliance.store import Store

RESET_MAX_AGE = timedelta(hours=24)
INVITE_MAX_AGE = timedelta(days=7)


class NoPublicURL(OffenError):
    """This instance has no public URL (OFFEN_APP_PUBLICURL), so it cannot build links for emails."""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Invitations:
    """Reset and invitation flows, bound to one store, OFFEN_SECRET, mailer and public URL."""

    def __init__(
        self,
        store: Store,
        credentials: Credentials,
        *,
        secret: bytes,
        mailer: Mailer,
        public_url: str | None,
        locale: str = mailtemplates.DEFAULT_LOCALE,
    ) -> None:
        self._store = store
        self._credentials = credentials
        self._secret = secret
        self.mailer = mailer
        self.public_url = public_url.rstrip("/") if public_url else None
        # Public so a changed stored setting reaches a running server (web.apply_config).
        self.locale = locale

    def _base(self) -> str:
        if not self.public_url:
            raise NoPublicURL()
        return self.public_url

    def _send(self, mail: Mail) -> Mail:
        self.mailer.send(mail.to, mail.subject, mail.body)
        return mail

    def _mail(self, template: str, to: str, **values: object) -> Mail:
        subject, body = mailtemplates.render(template, self.locale, **values)
        return self._send(Mail(to=to, subject=subject, body=body))

    def _read_token(self, namespace: str, token: object, max_age: timedelta, now: datetime) -> dict[str, Any]:
        if not isinstance(token, str) or not token:
            raise InvalidToken()
        try:
            value = keys.unsign(namespace, token, self._secret, max_age, now)
        except CryptoError as err:
            raise InvalidToken() from err
        if not isinstance(value, dict):
            raise InvalidToken()
        return value

    # -- password reset -----------------------------------------------------------

    def forgot_password(self, email: object, now: datetime) -> Mail | None:
        """Add one-time wraps of every KEK and mail a reset link (POST /api/forgot-password).

        Unknown emails get no mail and the same answer, so the route does not
        tell who has an account here.
        """
        base = self._base()
        normalized = normalize_email(email)
        found = self._credentials.find_user(email)  # type: ignore[arg-type]
        if found is None:
            return None
        user, spelling = found
        one_time_key = keys.random_bytes(32)
        with self._store.transaction():
            rewrap(
                self._store,
                self._store.find_relationships_for_user(user.account_user_id),
                source=EMAIL_WRAP,
                unwrap_keys=[self._credentials.derive(spelling, user.salt)],
                target=ONE_TIME_WRAP,
                wrap_key=one_time_key,
            )
        token = keys.sign(
            "reset-password",
            {
                "token": keys.b64url_encode(one_time_key),
                "email": normalized,
                "accountUserId": user.account_user_id,
            },
            self._secret,
            now,
        )
        return self._mail(
            "reset_password",
            normalized,
            link=f"{base}/reset-password/{token}/",
            hours=int(RESET_MAX_AGE.total_seconds() // 3600),
        )

    def reset_password(self, email: object, password: object, token: object, now: datetime) -> None:
        """Wrap every KEK under the new password, from the one-time wraps (POST /api/reset-password)."""
        value = self._read_token("reset-password", token, RESET_MAX_AGE, now)
        if not keys.constant_time_equals(str(value.get("email", "")), normalize_email(email)):
            raise InvalidToken("this link was sent to another email address")
        password = validate_password(password)
        user = self._store.get_account_user(str(value.get("accountUserId", "")))
        if user is None:
            raise InvalidToken()
        with self._store.transaction():
            rewrap(
                self._store,
                self._store.find_relationships_for_user(user.account_user_id, include_invitations=True),
                source=ONE_TIME_WRAP,
                unwrap_keys=[keys.b64url_decode(str(value.get("token", "")))],
                target=PASSWORD_WRAP,
                wrap_key=self._credentials.derive(password, user.salt),
                clear_source=True,
            )
            self._store.update_account_user(user.account_user_id, hashed_password=keys.hash_secret(password))

    # -- sharing and invitations -----------------------------------------------

    def share_account(
        self,
        session: Session,
        *,
        invitee: object,
        email: object,
        password: object,
        grant_admin: bool,
        account_id: str | None,
        now: datetime,
    ) -> Mail:
        """Give another operator access to one or all of the requester's accounts (POST /api/share-account)."""
        provider, _ = verify_requester(self._credentials, session, email, password)
        if provider.admin_level != 1:
            raise BadRequest("only admins can share accounts")
        invitee_email = normalize_email(invitee)
        base = self._base()
        provider_key = self._credentials.derive(password, provider.salt)  # type: ignore[arg-type]
        provided = [
            r
            for r in self._store.find_relationships_for_user(provider.account_user_id)
            if account_id is None or r.account_id == account_id
        ]
        if account_id is not None and not provided:
            raise Forbidden("you do not have access to this account")
        found = self._credentials.find_user(invitee_email)
        level = 1 if grant_admin else 0
        with self._store.transaction():
            if found is None:
                invitee_user = self._credentials.new_user(invitee_email, admin_level=level)
                self._store.insert_account_user(invitee_user)
                invitee_spelling = invitee_email
            else:
                invitee_user, invitee_spelling = found
                if invitee_user.account_user_id == provider.account_user_id:
                    raise BadRequest("you cannot invite yourself")
                # Offen set the level outright, demoting an admin invited
                # without the checkbox; an invitation only ever adds rights.
                if level > invitee_user.admin_level:
                    self._store.update_account_user(invitee_user.account_user_id, admin_level=level)
            existing = {
                r.account_id
                for r in self._store.find_relationships_for_user(
                    invitee_user.account_user_id, include_invitations=True
                )
            }
            added = []
            for relationship in provided:
                if relationship.account_id in existing:
                    continue
                kek = keys.decrypt_symmetric(provider_key, relationship.password_encrypted_key_encryption_key)
                # An invitation: the KEK wrapped under the invitee's email key only.
                self._store.insert_relationship(
                    self._credentials.new_relationship(
                        invitee_user, relationship.account_id, kek, None, invitee_spelling
                    )
                )
                added.append(relationship.account_id)
            if not added:
                raise Conflict("user already has access to all requested accounts")
        added_ids = set(added)
        names = mailtemplates.account_list(
            a.name for a in self._store.all_accounts() if a.account_id in added_ids
        )
        if found is not None and found[0].hashed_password:
            return self._mail("existing_user_invite", invitee_email, accounts=names, link=f"{base}/login/")
        token = keys.sign("join", {"email": invitee_email}, self._secret, now)
        return self._mail(
            "new_user_invite",
            invitee_email,
            accounts=names,
            link=f"{base}/join/{token}/",
            days=INVITE_MAX_AGE.days,
        )

    def join(self, email: object, password: object, token: object, now: datetime) -> None:
        """Accept an invitation: set a password and wrap every KEK under it (POST /api/join)."""
        value = self._read_token("join", token, INVITE_MAX_AGE, now)
        normalized = normalize_email(email)
        if not keys.constant_time_equals(str(value.get("email", "")), normalized):
            raise InvalidToken("this invitation was sent to another email address")
        password = validate_password(password)
        found = self._credentials.find_user(normalized)
        if found is None:
            raise InvalidToken("this invitation is no longer valid")
        user, spelling = found
        if user.hashed_password:
            raise BadRequest("this invitation has already been accepted; log in instead")
        with self._store.transaction():
            rewrap(
                self._store,
                self._store.find_relationships_for_user(user.account_user_id, include_invitations=True),
                source=EMAIL_WRAP,
                unwrap_keys=[self._credentials.derive(spelling, user.salt)],
                target=PASSWORD_WRAP,
                wrap_key=self._credentials.derive(password, user.salt),
            )
            self._store.update_account_user(user.account_user_id, hashed_password=keys.hash_secret(password))
