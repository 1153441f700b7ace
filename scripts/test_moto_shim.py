"""Tests of moto_shim.py. Run with the Python that has moto installed:

    "$(dirname "$(./scripts/install-moto.sh | tail -n 1)")/python3" -m unittest discover -s scripts -p 'test_moto_shim.py'

(scripts/test.sh does.) The first group checks the rename alone; the second starts moto in
this process with the shim installed and reads the three corrected answers over HTTP, as
the SDK for Rust would, checking the root and that the content is kept.
"""

import http.client
import logging
import os
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_shim  # noqa: E402

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


class RenameRoot(unittest.TestCase):
    def test_renames_the_root_and_keeps_namespace_declaration_and_content(self):
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<GetBucketVersioningResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            "<Status>Enabled</Status></GetBucketVersioningResponse>\n"
        )
        self.assertEqual(
            moto_shim.rename_root(
                body, "GetBucketVersioningResponse", "VersioningConfiguration"
            ),
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            "<Status>Enabled</Status></VersioningConfiguration>\n",
        )

    def test_bytes_stay_bytes(self):
        self.assertEqual(
            moto_shim.rename_root(b"<A><B/></A>", "A", "C"), b"<C><B/></C>"
        )

    def test_self_closing_root(self):
        self.assertEqual(
            moto_shim.rename_root("<A xmlns='x'/>", "A", "C"), "<C xmlns='x'/>"
        )

    def test_a_right_root_or_an_error_document_is_unchanged(self):
        for body in [
            "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
            "<Error><Code>NoSuchBucket</Code></Error>",
            "",
        ]:
            self.assertEqual(
                moto_shim.rename_root(
                    body, "GetBucketVersioningResponse", "VersioningConfiguration"
                ),
                body,
            )

    def test_only_the_root_is_renamed_not_a_longer_name_or_an_inner_element(self):
        # A root whose name merely starts with the wrong one is left alone.
        self.assertEqual(moto_shim.rename_root("<AB></AB>", "A", "C"), "<AB></AB>")
        # An element of the same name inside the root is content, not the root.
        self.assertEqual(
            moto_shim.rename_root("<A><A>x</A></A>", "A", "C"), "<C><A>x</A></C>"
        )

    def test_response_shapes(self):
        self.assertEqual(
            moto_shim._fix_response((200, {"h": "1"}, "<A/>"), "A", "C"),
            (200, {"h": "1"}, "<C/>"),
        )
        self.assertEqual(
            moto_shim._fix_response(("<A/>", {"status": 200}), "A", "C"),
            ("<C/>", {"status": 200}),
        )
        self.assertEqual(moto_shim._fix_response("<A/>", "A", "C"), "<C/>")


class AgainstMoto(unittest.TestCase):
    """moto in this process, with the shim installed, read over HTTP."""

    @classmethod
    def setUpClass(cls):
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request
        cls.wrapped = moto_shim.install()
        from moto.server import ThreadedMotoServer

        cls.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        cls.server.start()
        cls.host, cls.port = cls.server.get_host_and_port()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        conn.close()
        self.assertLess(response.status, 300, f"{method} {path}: {data[:300]!r}")
        return data

    def root(self, data):
        tag = ET.fromstring(data).tag
        return tag.split("}", 1)[-1]

    def test_every_fix_is_installed(self):
        self.assertEqual(
            self.wrapped,
            [
                "S3Response.get_bucket_versioning",
                "S3Response.get_bucket_notification",
                "S3ControlResponse.list_access_points",
                "S3ControlResponse.get_access_point",
                "S3ControlResponse.create_access_point",
            ],
        )

    def test_get_bucket_versioning(self):
        self.request("PUT", "/shim-versioned")
        self.request(
            "PUT",
            "/shim-versioned?versioning",
            body=f'<VersioningConfiguration xmlns="{S3_NS}"><Status>Enabled</Status>'
            "</VersioningConfiguration>",
        )
        data = self.request("GET", "/shim-versioned?versioning")
        self.assertEqual(self.root(data), "VersioningConfiguration", data)
        status = ET.fromstring(data).find(f"{{{S3_NS}}}Status")
        if status is None:
            status = ET.fromstring(data).find("Status")
        self.assertIsNotNone(status, data)
        self.assertEqual(status.text, "Enabled")

    def test_get_bucket_notification_without_notifications(self):
        self.request("PUT", "/shim-quiet")
        data = self.request("GET", "/shim-quiet?notification")
        self.assertEqual(self.root(data), "NotificationConfiguration", data)

    def test_list_access_points(self):
        account = "123456789012"
        # moto routes S3 Control by the signing service (s3) and the /v20180820/ path.
        headers = {
            "x-amz-account-id": account,
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/"
            "aws4_request, SignedHeaders=host, Signature=0",
        }
        created = self.request(
            "PUT",
            "/v20180820/accesspoint/shim-ap",
            body="<CreateAccessPointRequest xmlns=\"http://awss3control.amazonaws.com/doc/2018-08-20/\">"
            "<Bucket>shim-ap-bucket</Bucket></CreateAccessPointRequest>",
            headers=headers,
        )
        data = self.request(
            "GET",
            "/v20180820/accesspoint",
            headers=headers,
        )
        self.assertEqual(self.root(created), "CreateAccessPointResult", created)
        self.assertIn(b"<AccessPointArn>", created)
        self.assertEqual(self.root(data), "ListAccessPointsResult", data)
        self.assertIn(b"<Name>shim-ap</Name>", data)
        one = self.request("GET", "/v20180820/accesspoint/shim-ap", headers=headers)
        self.assertEqual(self.root(one), "GetAccessPointResult", one)
        self.assertIn(b"<BlockPublicAcls>true</BlockPublicAcls>", one)


if __name__ == "__main__":
    unittest.main()
