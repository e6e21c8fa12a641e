// Tests for KitsuneAWS live in this folder.
