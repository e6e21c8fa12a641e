// Tests for KitsuneLambda live in this folder.
