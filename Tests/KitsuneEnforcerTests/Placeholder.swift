// Tests for KitsuneEnforcer live in this folder.
