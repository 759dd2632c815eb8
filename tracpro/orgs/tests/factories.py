# On the root host, an org's pages take the org itself as `pk`.
SWEEP_FACTORIES = {"orgs.Org": lambda org: org}
