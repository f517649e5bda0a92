//! Which meetings an org owes: the effective frequency of each kind (own rule, else the nearest
//! ancestor's, else the kind's default) and whether a branch counts as having a committee.
