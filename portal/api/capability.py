"""What the server can do: the CapabilityStatement (/fhir/metadata) and the OpenAPI text.

Both are built from one table of resource types and search parameters, so they
cannot disagree with each other.
"""

from typing import Any

from django.conf import settings

from portal.api.auth import SCOPES
from portal.api.smart_scopes import CONTEXT_SCOPES

# (type, patient-facing, interactions, search parameters: name -> (FHIR type, description))
PUBLIC_PAGING = {"_count": ("number", "размер страницы (не больше API_PAGE_MAX)"),
                 "_offset": ("number", "смещение страницы (ссылки next/previous)")}  # fmt: skip
REFERENCE = "reference"
TYPES: list[tuple[str, bool, list[str], dict[str, tuple[str, str]]]] = [
    ("Organization", False, ["read", "search-type"], {
        "_id": ("token", "идентификатор"),
        "name": ("string", "часть полного или краткого наименования"),
        "district": ("string", "район или город, например «г. Иркутск»"),
    }),
    ("Location", False, ["read", "search-type"], {
        "_id": ("token", "идентификатор"),
        "name": ("string", "часть наименования"),
        "organization": (REFERENCE, "Organization/<id>"),
        "district": ("string", "район или город"),
    }),
    ("Practitioner", False, ["read", "search-type"], {
        "_id": ("token", "идентификатор"),
        "name": ("string", "часть фамилии"),
        "family": ("string", "часть фамилии"),
        "active": ("token", "true или false"),
    }),
    ("PractitionerRole", False, ["read", "search-type"], {
        "_id": ("token", "идентификатор"),
        "practitioner": (REFERENCE, "Practitioner/<id>"),
        "organization": (REFERENCE, "Organization/<id>"),
        "specialty": ("token", "код специальности"),
        "district": ("string", "район или город"),
        "active": ("token", "true или false"),
    }),
    ("HealthcareService", False, ["read", "search-type"], {
        "organization": (REFERENCE, "Organization/<id>"),
        "specialty": ("token", "код специальности"),
        "service-type": ("token", "код специальности"),
        "district": ("string", "район или город"),
    }),
    ("Schedule", False, ["read", "search-type"], {
        "_id": ("token", "идентификатор"),
        "actor": (REFERENCE, "PractitionerRole/<id>"),
        "organization": (REFERENCE, "Organization/<id>"),
        "specialty": ("token", "код специальности"),
        "service-type": ("token", "код специальности"),
        "district": ("string", "район или город"),
        "active": ("token", "true или false"),
    }),
    ("Slot", False, ["read", "search-type"], {
        "_id": ("token", "идентификатор"),
        "schedule": (REFERENCE, "Schedule/<id>"),
        "service-type": ("token", "код специальности"),
        "specialty": ("token", "код специальности"),
        "organization": (REFERENCE, "Organization/<id>"),
        "district": ("string", "район или город"),
        "start": ("date", "ge/gt/le/lt/eq + дата или дата-время"),
        "status": ("token", "free, busy, busy-unavailable"),
    }),
    ("Patient", True, ["read", "search-type"], {"_id": ("token", "идентификатор")}),
    ("RelatedPerson", True, ["read", "search-type"], {
        "patient": (REFERENCE, "Patient/<id> (ребёнок)"),
    }),
    ("Appointment", True, ["read", "search-type", "create", "update", "patch"], {
        "_id": ("token", "идентификатор"),
        "patient": (REFERENCE, "Patient/<id>"),
        "status": ("token", "booked, cancelled, fulfilled, noshow"),
        "date": ("date", "ge/gt/le/lt/eq + дата или дата-время начала"),
    }),
    # Referrals (docs/referrals.md); Appointment.basedOn names the one a booking used.
    ("ServiceRequest", True, ["read", "search-type"], {
        "_id": ("token", "идентификатор"),
        "patient": (REFERENCE, "Patient/<id>"),
        "status": ("token", "active, completed, revoked, entered-in-error"),
    }),
    # Home visits (docs/home-visits.md): a Task per request, its status the state.
    ("Task", True, ["read", "search-type", "create"], {
        "_id": ("token", "идентификатор"),
        "patient": (REFERENCE, "Patient/<id>"),
        "status": ("token", "requested, accepted, in-progress, completed, cancelled"),
    }),
]  # fmt: skip

EXTRA_PARAMS = {"organization", "district"}  # the portal's own, not in the R4 base spec
# What each type's search understands; anything else is refused (`search.understood_query`).
SEARCH_PARAMETERS = {kind: frozenset(params) for kind, _p, _i, params in TYPES}


def capability_statement(base: str) -> dict[str, Any]:
    rest_resources = []
    for kind, _patient, interactions, params in TYPES:
        rest_resources.append(
            {
                "type": kind,
                "interaction": [{"code": code} for code in interactions],
                "searchParam": [
                    {"name": name, "type": ptype, "documentation": doc}
                    for name, (ptype, doc) in params.items()
                ],
            }
        )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": settings.FHIR_CAPABILITY_DATE,
        "publisher": settings.PORTAL_REGION_NAME,
        "kind": "instance",
        "name": "PatientPortalFhir",
        "title": "Портал пациента: FHIR R4 API",
        "implementation": {"description": "Портал пациента", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Справочник и свободное время — без авторизации; "
                "пациент, дети и записи — OAuth 2.0 (SMART on FHIR).",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/"
                            "oauth-uris",
                            "extension": [
                                {"url": "authorize", "valueUri": _oauth(base, "authorize/")},
                                {"url": "token", "valueUri": _oauth(base, "token/")},
                                {"url": "revoke", "valueUri": _oauth(base, "revoke_token/")},
                            ],
                        }
                    ],
                },
                "resource": rest_resources,
            }
        ],
    }


def _oauth(base: str, tail: str) -> str:
    return base.rsplit("/fhir", 1)[0] + "/oauth/" + tail


AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def authorization_server_metadata(base: str, issuer: str) -> dict[str, Any]:
    """RFC 8414, at /.well-known/oauth-authorization-server. ``issuer`` is the one the
    authorization responses carry in `iss` (RFC 9207): the site's origin."""
    return {
        "issuer": issuer,
        "authorization_endpoint": _oauth(base, "authorize/"),
        "token_endpoint": _oauth(base, "token/"),
        "revocation_endpoint": _oauth(base, "revoke_token/"),
        "introspection_endpoint": _oauth(base, "introspect/"),
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": [*SCOPES, *CONTEXT_SCOPES],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS[:2],
        "authorization_response_iss_parameter_supported": True,
    }


def smart_configuration(base: str, issuer: str) -> dict[str, Any]:
    """SMART App Launch 2.x discovery, at <FHIR base>/.well-known/smart-configuration."""
    return authorization_server_metadata(base, issuer) | {
        "capabilities": [
            "launch-standalone",
            "context-standalone-patient",
            "client-public",
            "client-confidential-symmetric",
            "permission-patient",
            "permission-offline",
            "permission-v1",
            "permission-v2",
        ],
    }


# --- OpenAPI ---------------------------------------------------------------------------

_OUTCOME = {"$ref": "#/components/schemas/OperationOutcome"}
_RESOURCE = {"$ref": "#/components/schemas/Resource"}


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/fhir+json": {"schema": schema}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {"description": "OperationOutcome", "content": _content(_OUTCOME)}
        for status in statuses
    }


def _param_schema(ptype: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0} if ptype == "number" else {"type": "string"}


def openapi(base: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    secured = [{"smart": list(SCOPES)}]
    for kind, patient, interactions, params in TYPES:
        security = secured if patient else []
        auth_errors = (401, 403) if patient else ()
        query = [
            {"name": name, "in": "query", "required": False, "schema": _param_schema(ptype),
             "description": doc}
            for name, (ptype, doc) in {**params, **PUBLIC_PAGING}.items()
        ]  # fmt: skip
        paths[f"/{kind}"] = {
            "get": {
                "summary": f"Поиск {kind}",
                "operationId": f"search{kind}",
                "parameters": query,
                "security": security,
                "responses": {
                    "200": {"description": "Bundle searchset", "content": _content(_RESOURCE)},
                    **_errors(400, *auth_errors, 429),
                },
            }
        }
        item: dict[str, Any] = {
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "get": {
                "summary": f"Чтение {kind}",
                "operationId": f"read{kind}",
                "security": security,
                "responses": {
                    "200": {"description": kind, "content": _content(_RESOURCE)},
                    **_errors(*auth_errors, 404, 429),
                },
            },
        }
        if "create" in interactions:
            paths[f"/{kind}"]["post"] = {
                "summary": "Записаться на свободное время (Slot)",
                "operationId": f"create{kind}",
                "security": secured,
                "parameters": [
                    {
                        "name": "X-Request-Id",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 200},
                        "description": "идентификатор запроса: повтор не создаёт вторую запись",
                    },
                ],
                "requestBody": {"required": True, "content": _content(_RESOURCE)},
                "responses": {
                    "201": {"description": "создана", "content": _content(_RESOURCE)},
                    "200": {
                        "description": "повтор того же запроса",
                        "content": _content(_RESOURCE),
                    },
                    **_errors(400, 401, 403, 404, 409, 415, 422, 429, 503),
                },
            }
        if "update" in interactions:
            change = {
                "security": secured,
                "requestBody": {"required": True, "content": {
                    "application/fhir+json": {"schema": _RESOURCE},
                    "application/json-patch+json": {"schema": {"type": "array"}},
                }},
                "responses": {
                    "200": {"description": "отменена", "content": _content(_RESOURCE)},
                    **_errors(400, 401, 403, 404, 409, 415, 422, 429, 503),
                },
            }  # fmt: skip
            item["put"] = {**change, "summary": "Отменить запись", "operationId": f"update{kind}"}
            item["patch"] = {**change, "summary": "Отменить запись", "operationId": f"patch{kind}"}
        paths[f"/{kind}/{{id}}"] = item
    paths["/metadata"] = {
        "get": {
            "summary": "CapabilityStatement",
            "operationId": "metadata",
            "responses": {"200": {"description": "", "content": _content(_RESOURCE)}},
        }
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Портал пациента: FHIR R4 API", "version": "1.0.0"},
        "servers": [{"url": base}],
        "paths": paths,
        "components": {
            "schemas": {
                "Resource": {
                    "type": "object",
                    "required": ["resourceType"],
                    "properties": {"resourceType": {"type": "string"}},
                },
                "OperationOutcome": {
                    "type": "object",
                    "required": ["resourceType", "issue"],
                    "properties": {
                        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
                        "issue": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
            "securitySchemes": {
                "smart": {
                    "type": "oauth2",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": _oauth(base, "authorize/"),
                            "tokenUrl": _oauth(base, "token/"),
                            "refreshUrl": _oauth(base, "token/"),
                            "scopes": dict(SCOPES),
                        }
                    },
                }
            },
        },
    }
