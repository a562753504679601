"""Every refusal of the API is an OperationOutcome with a Russian text and the right status.

The booking refusals carry the very text the pages show (`scheduling.errors.ERRORS`),
so a mobile app can show it as it is.
"""

import json
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from portal.api.narrative import narrated
from portal.api.queries import BookingRefused

FHIR_JSON = "application/fhir+json; charset=utf-8"
ERROR_SYSTEM_PATH = "/CodeSystem/error"

# Booking refusal code -> HTTP status. Anything not listed is a rule (422).
BOOKING_STATUS = {
    "slot_taken": 409,
    # Held for another patient's offer or kept for a draw: not the client's to take now,
    # like a taken slot (docs/api.md); it may come free later.
    "slot_held": 409,
    "slot_in_draw": 409,
    "cancel_not_active": 409,
    "busy": 503,
}

# The API's own refusals (not booking rules), one table like scheduling.errors.
API_ERRORS = {
    "not_found": _("Такого ресурса нет или он вам недоступен. Проверьте адрес запроса."),
    "token_missing": _(
        "Нужен токен доступа: войдите в приложение через Госуслуги и разрешите ему доступ."
    ),
    "token_invalid": _(
        "Токен доступа недействителен, истёк или отозван. Войдите в приложение заново."
    ),
    "token_audience": _(
        "Токен выдан не для этого сервера FHIR. Получите токен с параметром "
        "resource, равным адресу этого сервера."
    ),
    "scope": _(
        "Приложению не разрешено это действие. Разрешите его при входе "
        "(нужное разрешение: %(scope)s)."
    ),
    "no_patient": _(
        "У учётной записи нет карточки пациента. Войдите на портал через Госуслуги "
        "и откройте личный кабинет."
    ),
    "not_yours": _(
        "Вы не можете действовать от имени этого пациента. Выберите себя или ребёнка "
        "из своего списка родственников."
    ),
    "invalid": _("Запрос составлен неверно: %(detail)s"),
    "unsupported": _("Сервер не поддерживает это: %(detail)s"),
    "tentative": _(
        "Запись со статусом %(value)s — ещё не запись: портал не держит предварительных "
        "записей. Когда пациент подтвердит время, создайте запись со статусом booked."
    ),
    "version_conflict": _(
        "Запись изменилась с тех пор, как приложение её прочитало (If-Match не совпадает). "
        "Прочитайте её заново и повторите действие."
    ),
    "unsupported_parameter": _(
        "Параметр поиска «%(name)s» не поддерживается: уберите его (список параметров — в "
        "/fhir/metadata) или попросите пропускать неизвестные параметры заголовком "
        "Prefer: handling=lenient."
    ),
    "too_large": _("Тело запроса слишком большое: не больше %(kilobytes)s КБ."),
    "method": _("Этот метод не поддерживается для этого адреса."),
    "rate": _("Слишком много запросов с этим токеном. Повторите через %(seconds)s с."),
    "request_id_reused": _(
        "Этот X-Request-Id уже использован для другой записи. Для новой записи "
        "передайте новый идентификатор запроса."
    ),
    "unavailable": _(
        "Сервис временно недоступен: нет связи с базой данных. Ваши записи сохранены. "
        "Повторите запрос через %(seconds)s с."
    ),
    "only_cancel": _(
        "Изменить можно только состояние записи на «cancelled» (отмена). Чтобы "
        "перенести приём, отмените запись и создайте новую."
    ),
}

# FHIR issue type for each status (http://hl7.org/fhir/R4/valueset-issue-type.html).
ISSUE_TYPE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-long",
    415: "not-supported",
    422: "business-rule",
    429: "throttled",
    503: "transient",
}


class FhirError(Exception):
    """Raised anywhere in the API; the view wrapper turns it into an OperationOutcome."""

    def __init__(
        self, status: int, code: str, text: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.text = text
        self.headers = headers or {}


def api_error(status: int, code: str, **params: Any) -> FhirError:
    text = str(API_ERRORS[code])
    if params:
        text = text % params
    return FhirError(status, code, text)


def booking_error(refused: BookingRefused) -> FhirError:
    status = BOOKING_STATUS.get(refused.code, 422)
    headers = {"Retry-After": "5"} if status == 503 else None
    return FhirError(status, refused.code, refused.message, headers=headers)


def operation_outcome(code: str, text: str, status: int, system: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": ISSUE_TYPE.get(status, "processing"),
                "details": {"coding": [{"system": system, "code": code}], "text": text},
            }
        ],
    }


def fhir_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(narrated(body), ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=FHIR_JSON,
    )


def error_response(error: FhirError, system: str) -> HttpResponse:
    response = fhir_response(
        operation_outcome(error.code, error.text, error.status, system), error.status
    )
    for name, value in error.headers.items():
        response[name] = value
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fhir"'
    return response
