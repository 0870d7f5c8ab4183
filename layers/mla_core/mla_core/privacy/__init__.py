"""A constituent's rights over their personal data (DPDP Act 2023): find it, export it, erase it.

`requests` answers an office's MLA admin (and its twins, a super admin's at the CLI); what each feature
holds and how it is erased comes from the features' own `personal_data` modules (`discovery`), never
from here.
"""
