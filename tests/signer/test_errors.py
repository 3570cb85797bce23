"""The one error tree (signer/errors.py): exactly the intended public names, each error with a stable code, a
category the HTTP and exit-code maps know, and a Chinese default message."""

from __future__ import annotations

import inspect
import re

import signer.errors as errors
from api.errors import EXIT_CODE, HTTP_STATUS
from signer.errors import ErrorCategory, FieldProblem, MinSealError

#: every domain error and its code; a code is part of the interface (scripts and logs match on it)
CODES = {
    "MinSealError": "MINSEAL_ERROR",
    "UnknownFamilyError": "UNKNOWN_FAMILY",
    "TemplateDataError": "INVALID_DATA",
    "RendererUnavailableError": "RENDERER_UNAVAILABLE",
    "InputFileError": "INPUT_FILE",
    "OutputFileError": "OUTPUT_FILE",
    "RegistryError": "REGISTRY_INVALID",
    "UnknownOfficeError": "UNKNOWN_OFFICE",
    "PublicTokenError": "BAD_PUBLIC_TOKEN",
    "KeyStoreError": "KEYSTORE_ERROR",
    "SealNotIssuedError": "SEAL_NOT_ISSUED",
    "SealStateError": "SEAL_STATE",
    "SealRevokedError": "SEAL_REVOKED",
    "WrongOfficeError": "WRONG_OFFICE",
    "NotSealableError": "NOT_SEALABLE",
    "SealingError": "SEALING_FAILED",
    "NotSignedInError": "NOT_SIGNED_IN",
    "ForbiddenError": "FORBIDDEN",
    "NotFoundError": "NOT_FOUND",
    "ConflictError": "CONFLICT",
    "UserError": "USER_INVALID",
    "UploadTooLargeError": "UPLOAD_TOO_LARGE",
    "ThrottledError": "THROTTLED",
    "BlobMissingError": "BLOB_MISSING",
    "VerificationRefusedError": "VERIFICATION_FAILED",
}
INTENDED = set(CODES) | {"ErrorCategory", "FieldProblem"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _error_classes() -> dict[str, type[MinSealError]]:
    return {name: obj for name, obj in vars(errors).items()
            if inspect.isclass(obj) and issubclass(obj, MinSealError) and obj.__module__ == errors.__name__}


def test_public_names_are_exactly_the_intended_set() -> None:
    assert set(errors.__all__) == INTENDED
    defined = {name for name, obj in vars(errors).items()
               if not name.startswith("_") and getattr(obj, "__module__", None) == errors.__name__}
    assert defined == INTENDED, "a class defined in the tree is missing from __all__, or the reverse"


def test_every_error_has_a_stable_code_a_category_and_a_chinese_message() -> None:
    classes = _error_classes()
    assert set(classes) == set(CODES)
    for name, cls in classes.items():
        assert cls.code == CODES[name], name
        assert isinstance(cls.category, ErrorCategory), name
        assert cls.category in HTTP_STATUS and cls.category in EXIT_CODE, name
        assert CHINESE.search(cls.default_message), name
    own = [cls.__dict__["code"] for cls in classes.values() if "code" in cls.__dict__]
    assert len(own) == len(set(own)) == len(classes), "each error declares its own, distinct code"


def test_an_error_carries_its_code_and_default_message() -> None:
    for name, cls in _error_classes().items():
        if name == "TemplateDataError":
            error: MinSealError = cls([FieldProblem("x", "有误")])  # type: ignore[call-arg]
        else:
            error = cls()
        assert error.to_dict()["code"] == CODES[name]
        assert CHINESE.search(error.message)


def test_moved_errors_are_the_same_classes_where_they_used_to_live() -> None:
    from api.services.offices import RegistryError, UnknownOfficeError
    from api.storage.files import OutputFileError
    from signer.public_token import PublicTokenError

    assert RegistryError is errors.RegistryError and UnknownOfficeError is errors.UnknownOfficeError
    assert OutputFileError is errors.OutputFileError and PublicTokenError is errors.PublicTokenError
