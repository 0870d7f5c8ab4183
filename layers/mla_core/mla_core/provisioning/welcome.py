"""The welcome email a new MLA office receives: in English and in the tenant's first language, with
the link that accepts the office admin's invitation (`mla_core.identity.invitations`)."""

from __future__ import annotations

from mla_core import mail
from mla_core.mail import Email, Section

_SECTIONS = {
    "en": Section(
        paragraphs=(
            "Welcome to MLA Voice AI, {name}.",
            "The grievance line for {constituency} is ready. Constituents can call {numbers} at any time; "
            "every complaint is logged with a reference number and confirmed to the caller by SMS.",
        ),
        action="Set your password and sign in to the dashboard here (the link works once, for 7 days):",
    ),
    "ta": Section(
        paragraphs=(
            "MLA Voice AI-க்கு வரவேற்கிறோம், {name}.",
            "{constituency} தொகுதிக்கான புகார் தொலைபேசி சேவை தயாராக உள்ளது. பொதுமக்கள் {numbers} "
            "எண்ணில் எப்போது வேண்டுமானாலும் அழைக்கலாம்; ஒவ்வொரு புகாரும் குறிப்பு எண்ணுடன் பதிவு செய்யப்பட்டு "
            "SMS மூலம் உறுதிப்படுத்தப்படும்.",
        ),
        action="கடவுச்சொல்லை அமைத்து டாஷ்போர்டில் நுழைய (இந்த இணைப்பு 7 நாட்களுக்கு, ஒருமுறை மட்டுமே செயல்படும்):",
    ),
    "hi": Section(
        paragraphs=(
            "MLA Voice AI में आपका स्वागत है, {name}।",
            "{constituency} के लिए शिकायत हेल्पलाइन तैयार है। नागरिक किसी भी समय {numbers} पर कॉल कर सकते हैं; "
            "हर शिकायत एक संदर्भ संख्या के साथ दर्ज होती है और कॉल करने वाले को SMS से पुष्टि भेजी जाती है।",
        ),
        action="पासवर्ड सेट करके डैशबोर्ड में साइन इन करें (यह लिंक 7 दिनों तक, केवल एक बार काम करता है):",
    ),
}

_SUBJECTS = {
    "en": "Your grievance line for {constituency} is ready",
    "ta": "{constituency} புகார் சேவை தயார்",
    "hi": "{constituency} शिकायत हेल्पलाइन तैयार है",
}


def compose(*, mla_name: str, constituency: str, phone_numbers: list[str], language: str, link: str) -> Email:
    """English first, then the tenant's first language when it is not English."""
    languages = ["en"] if language == "en" or language not in _SECTIONS else ["en", language]
    values = {"name": mla_name, "constituency": constituency, "numbers": ", ".join(phone_numbers)}
    sections = [_SECTIONS[lang].filled(**values) for lang in languages]
    subject = " / ".join(_SUBJECTS[lang].format(constituency=constituency) for lang in languages)
    return mail.compose(subject, sections, link)
