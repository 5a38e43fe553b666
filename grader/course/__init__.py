"""The course and its submissions, as the judge reads them: the manifest (homeworks, parts,
points, forbidden lists), a submission turned into the module an executor imports, and the
source scan for forbidden names."""
