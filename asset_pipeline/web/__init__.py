"""The verification page customers open from a certificate's QR code (`asset-pipeline serve`)."""

from asset_pipeline.web.app import create_app

__all__ = ["create_app"]
