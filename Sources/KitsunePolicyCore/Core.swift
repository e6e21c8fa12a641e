/// Pure-Swift policy core shared by the enforcer (Embedded) and the CLI.
