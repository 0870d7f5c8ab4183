"""The welcome email a new MLA office receives: in English and in the tenant's first language."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class WelcomeEmail:
    subject: str
    text: str
    html: str


_BODIES = {
    "en": (
        "Welcome to MLA Voice AI, {name}.\n\n"
        "The grievance line for {constituency} is ready. Constituents can call {numbers} at any time; "
        "every complaint is logged with a reference number and confirmed to the caller by SMS.\n\n"
        "Set your password and sign in to the dashboard here (the link works once):\n{link}"
    ),
    "ta": (
        "MLA Voice AI-க்கு வரவேற்கிறோம், {name}.\n\n"
        "{constituency} தொகுதிக்கான புகார் தொலைபேசி சேவை தயாராக உள்ளது. பொதுமக்கள் {numbers} "
        "எண்ணில் எப்போது வேண்டுமானாலும் அழைக்கலாம்; ஒவ்வொரு புகாரும் குறிப்பு எண்ணுடன் பதிவு செய்யப்பட்டு "
        "SMS மூலம் உறுதிப்படுத்தப்படும்.\n\n"
        "கடவுச்சொல்லை அமைத்து டாஷ்போர்டில் நுழைய (இந்த இணைப்பு ஒருமுறை மட்டுமே செயல்படும்):\n{link}"
    ),
    "hi": (
        "MLA Voice AI में आपका स्वागत है, {name}।\n\n"
        "{constituency} के लिए शिकायत हेल्पलाइन तैयार है। नागरिक किसी भी समय {numbers} पर कॉल कर सकते हैं; "
        "हर शिकायत एक संदर्भ संख्या के साथ दर्ज होती है और कॉल करने वाले को SMS से पुष्टि भेजी जाती है।\n\n"
        "पासवर्ड सेट करके डैशबोर्ड में साइन इन करें (यह लिंक केवल एक बार काम करता है):\n{link}"
    ),
}

_SUBJECTS = {
    "en": "Your grievance line for {constituency} is ready",
    "ta": "{constituency} புகார் சேவை தயார்",
    "hi": "{constituency} शिकायत हेल्पलाइन तैयार है",
}


def compose(*, mla_name: str, constituency: str, phone_numbers: list[str], language: str, link: str) -> WelcomeEmail:
    """English first, then the tenant's first language when it is not English."""
    languages = ["en"] if language == "en" else ["en", language]
    values = {"name": mla_name, "constituency": constituency, "numbers": ", ".join(phone_numbers), "link": link}
    sections = [_BODIES[lang].format(**values) for lang in languages]
    subject = " / ".join(_SUBJECTS[lang].format(constituency=constituency) for lang in languages)
    html_sections = [
        "<p>" + "</p><p>".join(escape(part).replace("\n", "<br>") for part in section.split("\n\n")) + "</p>"
        for section in sections
    ]
    html = (
        "<html><body>"
        + "<hr>".join(html_sections).replace(escape(link), f'<a href="{escape(link)}">{escape(link)}</a>')
        + "</body></html>"
    )
    return WelcomeEmail(subject=subject, text="\n\n---\n\n".join(sections), html=html)
