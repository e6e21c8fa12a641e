// KitsuneLambda
