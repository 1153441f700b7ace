"""Starts moto's server after correcting the response-format faults of the pinned moto
(5.2.5) that the AWS SDK for Rust rejects.

moto answers these calls with an XML root element that AWS does not use; the body inside
the root is right, and boto3 does not check the root, but the SDK for Rust does:

    S3 GetBucketVersioning                 GetBucketVersioningResponse -> VersioningConfiguration
    S3 GetBucketNotificationConfiguration  GetBucketNotificationResponse -> NotificationConfiguration
    S3 Control ListAccessPoints            ListAccessPointsResponse -> ListAccessPointsResult
    S3 Control GetAccessPoint              GetAccessPointResponse -> GetAccessPointResult
    S3 Control CreateAccessPoint           CreateAccessPointResponse -> CreateAccessPointResult

This launcher wraps exactly those response methods to rename the root element (and nothing
else: an answer whose root is already right, or an error document, passes unchanged), then
runs moto's own server entry point with the same arguments as `moto_server`:

    python moto_shim.py -H 127.0.0.1 -p 5000

Run it with the Python that has moto installed (the interpreter on `moto_server`'s `#!`
line). Used by scripts/demo.sh and by the end-to-end harness (tests/src/moto.rs); tested by
scripts/test_moto_shim.py. Listed in docs/testing.md. Remove a line of FIXES when moto
answers that call correctly.
"""

import functools
import importlib
import re
import sys

# (module, class, method, root moto writes, root AWS writes)
FIXES = [
    (
        "moto.s3.responses",
        "S3Response",
        "get_bucket_versioning",
        "GetBucketVersioningResponse",
        "VersioningConfiguration",
    ),
    (
        "moto.s3.responses",
        "S3Response",
        "get_bucket_notification",
        "GetBucketNotificationResponse",
        "NotificationConfiguration",
    ),
    (
        "moto.s3control.responses",
        "S3ControlResponse",
        "list_access_points",
        "ListAccessPointsResponse",
        "ListAccessPointsResult",
    ),
    (
        "moto.s3control.responses",
        "S3ControlResponse",
        "get_access_point",
        "GetAccessPointResponse",
        "GetAccessPointResult",
    ),
    (
        "moto.s3control.responses",
        "S3ControlResponse",
        "create_access_point",
        "CreateAccessPointResponse",
        "CreateAccessPointResult",
    ),
]


def rename_root(body, wrong, right):
    """`body` (str or bytes) with its root element renamed from `wrong` to `right`, when the
    root is `wrong`; otherwise `body` unchanged. Only the root's opening and closing tags
    change: attributes (the namespace), the XML declaration and the content stay."""
    as_bytes = isinstance(body, bytes)
    text = body.decode("utf-8") if as_bytes else body
    if not isinstance(text, str):
        return body
    opening = re.compile(
        r"\A(\s*(?:<\?xml[^>]*\?>\s*)?<)" + re.escape(wrong) + r"(?=[\s/>])"
    )
    fixed, n = opening.subn(r"\g<1>" + right, text, count=1)
    if n == 0:
        return body
    closing = re.compile(r"</" + re.escape(wrong) + r"(\s*>\s*)\Z")
    fixed = closing.sub("</" + right + r"\g<1>", fixed, count=1)
    return fixed.encode("utf-8") if as_bytes else fixed


def _fix_response(response, wrong, right):
    """A response method's return value with its body's root renamed. Handles the shapes
    moto's response methods return: (status, headers, body), (body, headers) and a body."""
    if isinstance(response, tuple) and len(response) == 3:
        status, headers, body = response
        return status, headers, rename_root(body, wrong, right)
    if isinstance(response, tuple) and len(response) == 2:
        body, headers = response
        return rename_root(body, wrong, right), headers
    if isinstance(response, (str, bytes)):
        return rename_root(response, wrong, right)
    return response


def wrap(method, wrong, right):
    """`method` (a moto response method) answering with the root `right` where moto writes
    `wrong`. A method that returns an unserialised ActionResult (S3 Control) is serialised
    here, as moto's dispatcher would do next, so the body can be corrected."""

    @functools.wraps(method)
    def fixed(self, *args, **kwargs):
        response = method(self, *args, **kwargs)
        if type(response).__name__ == "ActionResult":
            status, headers, body = self.serialized(response)
            headers = dict(headers)
            headers["status"] = status  # moto's dispatcher reads the status from here
            response = (status, headers, body)
        return _fix_response(response, wrong, right)

    fixed.posture_shim = True
    return fixed


def install():
    """Wraps every method in FIXES; returns the list of "Class.method" wrapped. A method
    missing from this moto is reported and skipped (a newer moto may have changed it)."""
    done = []
    for module_name, class_name, method_name, wrong, right in FIXES:
        cls = getattr(importlib.import_module(module_name), class_name)
        method = getattr(cls, method_name, None)
        if method is None:
            print(
                f"moto_shim: {class_name}.{method_name} not found; not corrected",
                file=sys.stderr,
            )
            continue
        if not getattr(method, "posture_shim", False):
            setattr(cls, method_name, wrap(method, wrong, right))
        done.append(f"{class_name}.{method_name}")
    return done


def main():
    install()
    from moto.server import main as moto_main

    sys.argv[0] = "moto_server"
    return moto_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
