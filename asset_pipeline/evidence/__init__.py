"""What the station proves: processing log, signed documents, certificates, reports, retention."""
