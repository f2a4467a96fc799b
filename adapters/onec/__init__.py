"""1C connectors behind the core's OneC port: standard OData, the HTTP service, the SOAP service."""

from adapters.onec.http_service import HttpServiceConnector
from adapters.onec.odata import ODataConnector
from adapters.onec.profile import load_profile
from adapters.onec.session import OneCSession
from adapters.onec.soap import SoapConnector

__all__ = [
    "HttpServiceConnector",
    "ODataConnector",
    "OneCSession",
    "SoapConnector",
    "load_profile",
]
