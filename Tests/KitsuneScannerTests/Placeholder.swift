// Tests for KitsuneScanner live in this folder.
