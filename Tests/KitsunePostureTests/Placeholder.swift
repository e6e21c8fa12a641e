// Tests for KitsunePosture live in this folder.
