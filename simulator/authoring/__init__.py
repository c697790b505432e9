"""Writing new scenarios and rubrics: `drafts` (scaffold, check and save an author's three files) and
`schemas` (the JSON Schemas editors use, generated from the models that validate the files).
"""
