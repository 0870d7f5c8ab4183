"""Which language a call from (or to) an Indian number most likely wants, when no office tells us.

A call to a number no office owns has no tenant, so no tenant language: its apology is said in two
languages, and this module picks the first. The rule (`apology_languages`):

1. **The dialled number's STD code.** The number called is a landline or a geographic virtual number
   bought in a city, so its STD code (the digits after +91 or the trunk 0, longest match first:
   44 Chennai, 11 Delhi, 80 Bengaluru, ...) names a state, and the state a language. A state whose
   language we speak (Tamil Nadu and Puducherry: Tamil; the Hindi belt: Hindi) gets it; every other
   state gets English, our common language.
2. **Else the caller's number, if it is a landline**: the same STD table. A landline's national
   number starts with 1-5 (mobiles start with 6-9, and some STD codes too, e.g. 80 and 79, so a
   caller's number starting 6-9 is taken as a mobile).
3. **The caller's mobile telecom circle is not used.** No library we have holds the circle of a
   mobile series (`phonenumbers` has none either), and since nationwide number portability (2015)
   a series tells the operator that issued it, not where the caller lives: a guess from it would be
   wrong for every ported and roaming number. Without a landline we go to the default.
4. **Else the platform default** (`AGENT_APOLOGY_LANGUAGE` in `agent_pool.settings`, Hindi unless set).

English is always second (and alone when the first is English). The STD table below is short on
purpose: the major cities and district headquarters of the states whose language we speak, and the
metros elsewhere (which get English). A code not in it falls through to rule 2, then 4.
"""

from __future__ import annotations

from mla_core.core.languages import LanguageCode

# The state's language, when we speak it; any state not here gets English.
STATE_LANGUAGES: dict[str, LanguageCode] = {
    "Tamil Nadu": "ta", "Puducherry": "ta",
    "Delhi": "hi", "Uttar Pradesh": "hi", "Bihar": "hi", "Madhya Pradesh": "hi", "Rajasthan": "hi",
    "Haryana": "hi", "Jharkhand": "hi", "Chhattisgarh": "hi", "Uttarakhand": "hi",
    "Himachal Pradesh": "hi",
}  # fmt: skip

# STD code (without the trunk 0) -> state. Approximate by design: see the module docstring.
STD_CODES: dict[str, str] = {
    # Tamil Nadu and Puducherry
    "44": "Tamil Nadu",  # Chennai
    "422": "Tamil Nadu",  # Coimbatore
    "452": "Tamil Nadu",  # Madurai
    "431": "Tamil Nadu",  # Tiruchirappalli
    "427": "Tamil Nadu",  # Salem
    "462": "Tamil Nadu",  # Tirunelveli
    "461": "Tamil Nadu",  # Thoothukudi
    "416": "Tamil Nadu",  # Vellore
    "424": "Tamil Nadu",  # Erode
    "421": "Tamil Nadu",  # Tiruppur
    "4362": "Tamil Nadu",  # Thanjavur
    "4652": "Tamil Nadu",  # Nagercoil
    "413": "Puducherry",
    # The Hindi belt
    "11": "Delhi",
    "120": "Uttar Pradesh",  # Noida, Ghaziabad
    "522": "Uttar Pradesh",  # Lucknow
    "512": "Uttar Pradesh",  # Kanpur
    "542": "Uttar Pradesh",  # Varanasi
    "532": "Uttar Pradesh",  # Prayagraj
    "562": "Uttar Pradesh",  # Agra
    "121": "Uttar Pradesh",  # Meerut
    "612": "Bihar",  # Patna
    "755": "Madhya Pradesh",  # Bhopal
    "731": "Madhya Pradesh",  # Indore
    "141": "Rajasthan",  # Jaipur
    "291": "Rajasthan",  # Jodhpur
    "124": "Haryana",  # Gurugram
    "129": "Haryana",  # Faridabad
    "651": "Jharkhand",  # Ranchi
    "771": "Chhattisgarh",  # Raipur
    "135": "Uttarakhand",  # Dehradun
    "177": "Himachal Pradesh",  # Shimla
    # Metros of other states (English)
    "80": "Karnataka",  # Bengaluru
    "22": "Maharashtra",  # Mumbai
    "20": "Maharashtra",  # Pune
    "33": "West Bengal",  # Kolkata
    "40": "Telangana",  # Hyderabad
    "79": "Gujarat",  # Ahmedabad
    "484": "Kerala",  # Kochi
    "471": "Kerala",  # Thiruvananthapuram
}

_LONGEST_CODE = max(len(code) for code in STD_CODES)


def national_number(number: str | None) -> str | None:
    """`+914428541234`, `914428541234` or `04428541234` -> `4428541234`; None if not an Indian number."""
    digits = "".join(ch for ch in number or "" if ch.isascii() and ch.isdigit())
    if len(digits) == 12 and digits.startswith("91"):
        digits = digits[2:]
    elif len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    return digits if len(digits) == 10 and digits[0] != "0" else None


def std_state(number: str | None) -> str | None:
    """The state of the number's STD code (longest match), or None when the table has no code for it."""
    national = national_number(number)
    if national is None:
        return None
    for length in range(_LONGEST_CODE, 1, -1):
        if state := STD_CODES.get(national[:length]):
            return state
    return None


def state_language(state: str) -> LanguageCode:
    return STATE_LANGUAGES.get(state, "en")


def _is_landline(number: str | None) -> bool:
    national = national_number(number)
    return national is not None and national[0] in "12345"


def first_language(dialed_number: str | None, caller_number: str | None, default: LanguageCode) -> LanguageCode:
    """The language a call's apology starts in (the rule in the module docstring)."""
    if state := std_state(dialed_number):
        return state_language(state)
    if _is_landline(caller_number) and (state := std_state(caller_number)):
        return state_language(state)
    return default


def apology_languages(
    dialed_number: str | None, caller_number: str | None, default: LanguageCode
) -> tuple[LanguageCode, ...]:
    """The apology's languages in the order spoken: the call's language first, English second."""
    first = first_language(dialed_number, caller_number, default)
    return (first,) if first == "en" else (first, "en")
