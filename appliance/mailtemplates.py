"""The texts of the appliance's emails, in the six locales of OFFEN_APP_LOCALE.

This module owns the subject and plain-text body of the three mails Offen
sends (reference §5.2: `reset_password`, `new_user_invite`,
`existing_user_invite`) and how one is rendered. The locale is the
instance's default (OFFEN_APP_LOCALE): the person a mail goes to has not
chosen a language anywhere the server could see it.

The texts are data kept in this module rather than files next to it, so a
PyInstaller binary carries them without a packaging rule. Placeholders are
`str.format` fields; every locale of a template must use exactly the same
ones (tests/test_mail_templates.py checks this). Values are inserted once and
never re-read as templates, so an account name cannot add placeholders.

English is the source text. The other five were translated by non-native
speakers with machine assistance and are NOT reviewed by native speakers
(see `REVIEW` below and docs/email.md, "Translations").
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "DEFAULT_LOCALE",
    "PLACEHOLDERS",
    "REVIEW",
    "TEMPLATES",
    "TEMPLATE_NAMES",
    "Template",
    "account_list",
    "placeholders",
    "render",
    "resolve_locale",
]

DEFAULT_LOCALE = "en"
TEMPLATE_NAMES = ("reset_password", "new_user_invite", "existing_user_invite")

# What each template is given; a locale may not use fewer or others.
PLACEHOLDERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "reset_password": frozenset({"link", "hours"}),
        "new_user_invite": frozenset({"link", "accounts", "days"}),
        "existing_user_invite": frozenset({"link", "accounts"}),
    }
)


@dataclass(frozen=True)
class Template:
    subject: str
    body: str


def _t(subject: str, *lines: str) -> Template:
    return Template(subject, "\n".join(lines) + "\n")


# Links stand alone on their own line: mail clients then make them clickable
# whole, and no punctuation sticks to them.
_EN = {
    "reset_password": _t(
        "Reset your Offen password",
        "Someone (hopefully you) asked to reset the password of your Offen login.",
        "",
        "Open this link within {hours} hours to choose a new password:",
        "{link}",
        "",
        "If you did not ask for this, you can ignore this email; your password stays as it is.",
    ),
    "new_user_invite": _t(
        "You have been invited to join Offen",
        "You have been invited to view the usage data of these accounts on Offen:",
        "",
        "{accounts}",
        "",
        "Open this link within {days} days to accept the invitation and choose your password:",
        "{link}",
        "",
        "If you did not expect this invitation, you can ignore this email.",
    ),
    "existing_user_invite": _t(
        "You have been added to additional accounts on Offen",
        "You have been given access to these additional accounts on Offen:",
        "",
        "{accounts}",
        "",
        "Log in to see them:",
        "{link}",
    ),
}

# German: informal "du", as the appliance's German UI catalogue.
_DE = {
    "reset_password": _t(
        "Setze dein Offen-Passwort zurück",
        "Jemand (hoffentlich du) hat angefordert, das Passwort deines Offen-Zugangs zurückzusetzen.",
        "",
        "Öffne diesen Link innerhalb von {hours} Stunden, um ein neues Passwort zu wählen:",
        "{link}",
        "",
        "Wenn du das nicht angefordert hast, kannst du diese E-Mail ignorieren; "
        "dein Passwort bleibt unverändert.",
    ),
    "new_user_invite": _t(
        "Du wurdest zu Offen eingeladen",
        "Du wurdest eingeladen, die Nutzungsdaten dieser Konten in Offen anzusehen:",
        "",
        "{accounts}",
        "",
        "Öffne diesen Link innerhalb von {days} Tagen, um die Einladung anzunehmen "
        "und dein Passwort zu wählen:",
        "{link}",
        "",
        "Wenn du diese Einladung nicht erwartet hast, kannst du diese E-Mail ignorieren.",
    ),
    "existing_user_invite": _t(
        "Du hast Zugriff auf weitere Konten in Offen",
        "Du hast Zugriff auf diese weiteren Konten in Offen erhalten:",
        "",
        "{accounts}",
        "",
        "Melde dich an, um sie zu sehen:",
        "{link}",
    ),
}

# French: formal "vous"; gender-neutral wording instead of "invité(e)".
_FR = {
    "reset_password": _t(
        "Réinitialisez votre mot de passe Offen",
        "Quelqu'un (vous, espérons-le) a demandé la réinitialisation du mot de passe de votre accès Offen.",
        "",
        "Ouvrez ce lien dans les {hours} heures pour choisir un nouveau mot de passe :",
        "{link}",
        "",
        "Si vous n'êtes pas à l'origine de cette demande, vous pouvez ignorer cet e-mail ; "
        "votre mot de passe reste inchangé.",
    ),
    "new_user_invite": _t(
        "Invitation à rejoindre Offen",
        "Une invitation vous a été envoyée pour consulter les données d'utilisation "
        "de ces comptes sur Offen :",
        "",
        "{accounts}",
        "",
        "Ouvrez ce lien dans les {days} jours pour accepter l'invitation et choisir votre mot de passe :",
        "{link}",
        "",
        "Si vous n'attendiez pas cette invitation, vous pouvez ignorer cet e-mail.",
    ),
    "existing_user_invite": _t(
        "Vous avez accès à de nouveaux comptes sur Offen",
        "Vous avez désormais accès à ces comptes supplémentaires sur Offen :",
        "",
        "{accounts}",
        "",
        "Connectez-vous pour les voir :",
        "{link}",
    ),
}

# Spanish: informal "tú", Spain-neutral vocabulary.
_ES = {
    "reset_password": _t(
        "Restablece tu contraseña de Offen",
        "Alguien (esperamos que tú) ha pedido restablecer la contraseña de tu acceso a Offen.",
        "",
        "Abre este enlace en las próximas {hours} horas para elegir una contraseña nueva:",
        "{link}",
        "",
        "Si no lo has pedido tú, puedes ignorar este correo; tu contraseña no cambiará.",
    ),
    "new_user_invite": _t(
        "Te han invitado a unirte a Offen",
        "Te han invitado a ver los datos de uso de estas cuentas en Offen:",
        "",
        "{accounts}",
        "",
        "Abre este enlace en los próximos {days} días para aceptar la invitación y elegir tu contraseña:",
        "{link}",
        "",
        "Si no esperabas esta invitación, puedes ignorar este correo.",
    ),
    "existing_user_invite": _t(
        "Ahora tienes acceso a más cuentas en Offen",
        "Te han dado acceso a estas cuentas adicionales en Offen:",
        "",
        "{accounts}",
        "",
        "Inicia sesión para verlas:",
        "{link}",
    ),
}

# Portuguese: Brazilian leaning ("você"), as the UI catalogue.
_PT = {
    "reset_password": _t(
        "Redefina sua senha do Offen",
        "Alguém (esperamos que você) pediu para redefinir a senha do seu acesso ao Offen.",
        "",
        "Abra este link em até {hours} horas para escolher uma nova senha:",
        "{link}",
        "",
        "Se não foi você quem pediu, pode ignorar este e-mail; sua senha continua a mesma.",
    ),
    "new_user_invite": _t(
        "Convite para participar do Offen",
        "Você recebeu um convite para ver os dados de uso destas contas no Offen:",
        "",
        "{accounts}",
        "",
        "Abra este link em até {days} dias para aceitar o convite e escolher sua senha:",
        "{link}",
        "",
        "Se você não esperava este convite, pode ignorar este e-mail.",
    ),
    "existing_user_invite": _t(
        "Você tem acesso a mais contas no Offen",
        "Você recebeu acesso a estas contas adicionais no Offen:",
        "",
        "{accounts}",
        "",
        "Entre para vê-las:",
        "{link}",
    ),
}

_VI = {
    "reset_password": _t(
        "Đặt lại mật khẩu Offen của bạn",
        "Có người (hy vọng là bạn) đã yêu cầu đặt lại mật khẩu đăng nhập Offen của bạn.",
        "",
        "Hãy mở liên kết này trong vòng {hours} giờ để chọn mật khẩu mới:",
        "{link}",
        "",
        "Nếu bạn không yêu cầu việc này, bạn có thể bỏ qua email này; mật khẩu của bạn sẽ không thay đổi.",
    ),
    "new_user_invite": _t(
        "Bạn được mời tham gia Offen",
        "Bạn được mời xem dữ liệu sử dụng của các tài khoản sau trên Offen:",
        "",
        "{accounts}",
        "",
        "Hãy mở liên kết này trong vòng {days} ngày để chấp nhận lời mời và chọn mật khẩu của bạn:",
        "{link}",
        "",
        "Nếu bạn không mong đợi lời mời này, bạn có thể bỏ qua email này.",
    ),
    "existing_user_invite": _t(
        "Bạn đã được thêm vào các tài khoản khác trên Offen",
        "Bạn đã được cấp quyền truy cập vào các tài khoản bổ sung sau trên Offen:",
        "",
        "{accounts}",
        "",
        "Hãy đăng nhập để xem:",
        "{link}",
    ),
}

TEMPLATES: Mapping[str, Mapping[str, Template]] = MappingProxyType(
    {
        locale: MappingProxyType(table)
        for locale, table in (("en", _EN), ("de", _DE), ("fr", _FR), ("es", _ES), ("pt", _PT), ("vi", _VI))
    }
)

# Who translated each locale and whether a native speaker has reviewed it.
# A translation counts as reviewed only when a native speaker has read the
# rendered mails; then record their name and the date here and in docs/email.md.
REVIEW: Mapping[str, str] = MappingProxyType(
    {
        "en": "source text",
        "de": "non-native, machine-assisted; NOT reviewed by a native speaker",
        "fr": "non-native, machine-assisted; NOT reviewed by a native speaker",
        "es": "non-native, machine-assisted; NOT reviewed by a native speaker",
        "pt": "non-native, machine-assisted; NOT reviewed by a native speaker",
        "vi": "machine-assisted; NOT reviewed by a native speaker",
    }
)


def placeholders(text: str) -> frozenset[str]:
    """The `str.format` field names used in `text`."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def resolve_locale(locale: str | None) -> str:
    """The locale whose texts are used: `locale` when there are texts for it, else English.

    Accepts region forms such as "pt-BR" or "de_AT" by their language part.
    """
    text = (locale or "").strip().lower().replace("_", "-")
    if text in TEMPLATES:
        return text
    language = text.split("-", 1)[0]
    return language if language in TEMPLATES else DEFAULT_LOCALE


def _one_line(text: str) -> str:
    # An account name is chosen by an operator; control characters (a line
    # break above all) could otherwise forge lines, such as a fake link, in
    # a mail sent in this instance's name.
    return "".join(
        " " if (ch < " " or ch == "\x7f" or ch in "\u2028\u2029\x85") else ch for ch in text
    ).strip()


def account_list(names: Iterable[str]) -> str:
    """Account names as the lines of a list, sorted, one per line ("- name")."""
    return "\n".join(f"- {_one_line(name)}" for name in sorted(names, key=str.casefold))


def render(name: str, locale: str | None, **values: object) -> tuple[str, str]:
    """The (subject, body) of template `name` in `locale` (English when there are no texts for it).

    Raises `KeyError` for an unknown template and `ValueError` when `values`
    are not exactly the template's placeholders: a mail with a missing link
    must not go out.
    """
    expected = PLACEHOLDERS[name]
    given = frozenset(values)
    if given != expected:
        raise ValueError(f"template {name!r} takes {sorted(expected)}, got {sorted(given)}")
    template = TEMPLATES[resolve_locale(locale)][name]
    # Subjects carry no placeholders (checked by the tests); a header needs one line.
    return template.subject, template.body.format_map(values)
