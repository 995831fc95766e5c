"""The code's privacy check: ``get_code_privacy_info`` (an endpoint the SDK does not wrap; reach it
with ``ComponentClient.call``).

The handler starts after its route's prologue (:data:`._routes.ROUTES`): the authorizer token and
permission set 18 (61007) are already checked.
"""

from __future__ import annotations

from ._call import Call, ok
from ._payloads import EmulatorResponse

__all__ = ["get_code_privacy_info"]


def get_code_privacy_info(call: Call) -> EmulatorResponse:
    """``GET /wxa/security/get_code_privacy_info?access_token=<authorizer token>``.

    While the authorizer's ``code_checks_pending`` is above zero, a request answers 61039 (the
    check is not finished: try again in about a minute, as WeChat says) and counts it down;
    then ``without_auth_list`` (privacy APIs whose application is still under review, status 3)
    and ``without_conf_list`` (``wx.getLocation`` for the ``undeclared`` profile: used, not
    declared).
    """
    authorizer = call.authorizer
    if authorizer.code_checks_pending > 0:
        authorizer.code_checks_pending -= 1
        return call.error(61039)
    under_review = [
        name for name, entry in authorizer.interfaces.items() if entry.get("status") == 3
    ]
    not_configured = ["wx.getLocation"] if authorizer.kind == "undeclared" else []
    return ok({"without_auth_list": under_review, "without_conf_list": not_configured})
