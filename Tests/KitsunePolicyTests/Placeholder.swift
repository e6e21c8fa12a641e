// Tests for KitsunePolicy live in this folder.
