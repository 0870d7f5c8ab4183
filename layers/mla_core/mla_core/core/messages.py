"""Every error a person can cause, as a sentence in English, Hindi and Tamil: one catalogue that the
JSON API (its `message`, in the language the client asks for) and the pages (next to each field, in
the page's language) both read.

Keyed by what an error says about itself, never by its English words: our own reasons (a detail's
`reason`, such as `already_taken` or `last_admin`), pydantic's error types (`missing`,
`string_too_short`, ...) and, last, the envelope's codes (`not_found`, `rate_limited`, ...). A reason
may have a sentence for one field (`email.already_taken`) before its general one. Fields are named in
words (`FIELDS`); a sentence names its field with `{field}` and pydantic's limits with `{min_length}`,
`{max_length}`, `{limit_value}`, `{expected}`.

A code the catalogue lacks comes back as None and the caller keeps the English it had: a test
(`tests/unit/test_error_messages.py`) checks that every reason our code raises is in here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from mla_core.core.languages import LanguageCode

# The catalogue's columns.
COLUMNS: tuple[LanguageCode, ...] = ("en", "hi", "ta")
Sentence = tuple[str, str, str]

# A field by its name in a request or a form: (English, Hindi, Tamil).
FIELDS: dict[str, Sentence] = {
    "email": ("email", "ईमेल", "மின்னஞ்சல்"),
    "admin_email": ("office admin's email", "कार्यालय एडमिन का ईमेल", "அலுவலக நிர்வாகியின் மின்னஞ்சல்"),
    "admin_name": ("office admin's name", "कार्यालय एडमिन का नाम", "அலுவலக நிர்வாகியின் பெயர்"),
    "password": ("password", "पासवर्ड", "கடவுச்சொல்"),
    "full_name": ("full name", "पूरा नाम", "முழுப் பெயர்"),
    "name": ("name", "नाम", "பெயர்"),
    "role": ("role", "भूमिका", "பங்கு"),
    "disabled": ("login", "लॉगिन", "உள்நுழைவு"),
    "token": ("link", "लिंक", "இணைப்பு"),
    "user_id": ("team member", "टीम सदस्य", "குழு உறுப்பினர்"),
    "agent_id": ("agent", "एजेंट", "முகவர்"),
    "agent": ("agent", "एजेंट", "முகவர்"),
    "mla_name": ("MLA name", "विधायक का नाम", "சட்டமன்ற உறுப்பினர் பெயர்"),
    "constituency": ("constituency", "निर्वाचन क्षेत्र", "தொகுதி"),
    "state": ("state", "राज्य", "மாநிலம்"),
    "languages": ("languages", "भाषाएं", "மொழிகள்"),
    "language": ("language", "भाषा", "மொழி"),
    "phone_numbers": ("phone numbers", "फ़ोन नंबर", "தொலைபேசி எண்கள்"),
    "phone": ("phone number", "फ़ोन नंबर", "தொலைபேசி எண்"),
    "greeting": ("greeting", "अभिवादन", "வரவேற்பு"),
    "greetings": ("greeting", "अभिवादन", "வரவேற்பு"),
    "category": ("category", "श्रेणी", "வகை"),
    "categories": ("categories", "श्रेणियां", "வகைகள்"),
    "status": ("status", "स्थिति", "நிலை"),
    "assigned_to": ("assignee", "सौंपा गया व्यक्ति", "ஒதுக்கப்பட்டவர்"),
    "duplicate_of": ("original complaint", "मूल शिकायत", "மூலப் புகார்"),
    "transferred_to": ("authority it goes to", "जिस विभाग को भेजा", "அனுப்பப்படும் துறை"),
    "description": ("description", "विवरण", "விவரம்"),
    "location": ("location", "स्थान", "இடம்"),
    "landmark": ("landmark", "पास का स्थान", "அடையாளம்"),
    "caller_name": ("caller's name", "कॉलर का नाम", "அழைப்பாளர் பெயர்"),
    "caller_number": ("caller's number", "कॉलर का नंबर", "அழைப்பாளர் எண்"),
    "callback_number": ("SMS number", "SMS नंबर", "SMS எண்"),
    "note": ("note", "नोट", "குறிப்பு"),
    "body": ("note", "नोट", "குறிப்பு"),
    "reference": ("reference", "संदर्भ", "குறிப்பு எண்"),
    "voices": ("voices", "आवाज़ें", "குரல்கள்"),
    "version": ("version", "संस्करण", "பதிப்பு"),
    "cursor": ("page link", "पेज लिंक", "பக்க இணைப்பு"),
    "confirm": ("confirmation", "पुष्टि", "உறுதிப்படுத்தல்"),
    "last4": ("last 4 digits", "आखिरी 4 अंक", "கடைசி 4 இலக்கங்கள்"),
    "text": ("text", "पाठ", "உரை"),  # a caller memory's (`/api/mem0`, the caller's page)
    "Idempotency-Key": ("Idempotency-Key", "Idempotency-Key", "Idempotency-Key"),
    "form": ("form", "फ़ॉर्म", "படிவம்"),
    # helper A (issue 14, item 7): the names in a language's own letters.
    "mla_name_local": (
        "MLA's name in the language's letters",
        "भाषा की लिपि में विधायक का नाम",
        "மொழியின் எழுத்தில் சட்டமன்ற உறுப்பினர் பெயர்",
    ),
    "constituency_local": (
        "constituency's name in the language's letters",
        "भाषा की लिपि में निर्वाचन क्षेत्र का नाम",
        "மொழியின் எழுத்தில் தொகுதியின் பெயர்",
    ),
    # helper E (issue 15, items 6 and 7): the complaint list's filters.
    "q": ("search", "खोज", "தேடல்"),
    "created_from": ("from date", "आरंभ तिथि", "தொடக்கத் தேதி"),
    "created_to": ("to date", "अंतिम तिथि", "இறுதித் தேதி"),
    "sla": ("SLA", "समय-सीमा", "காலக்கெடு"),
    "sort": ("order", "क्रम", "வரிசை"),
    "limit": ("page size", "पेज का आकार", "பக்க அளவு"),
}

# Our reasons and pydantic's error types: the sentence a person reads.
REASONS: dict[str, Sentence] = {
    # Ours, as the domain puts them in a detail's `reason`.
    # Meetings (mla_core.meetings): a meeting's status as the reason it cannot change, and its items.
    "scheduled": ("The meeting has not started yet.", "बैठक अभी शुरू नहीं हुई है।", "கூட்டம் இன்னும் தொடங்கவில்லை."),
    "live": ("The meeting is live now: end it first.", "बैठक अभी चल रही है: पहले इसे समाप्त करें।",
             "கூட்டம் இப்போது நடந்து கொண்டிருக்கிறது: முதலில் அதை முடியுங்கள்."),
    "ended": ("The meeting has ended.", "बैठक समाप्त हो चुकी है।", "கூட்டம் முடிந்துவிட்டது."),
    "cancelled": ("The meeting was cancelled.", "बैठक रद्द कर दी गई थी।", "கூட்டம் ரத்து செய்யப்பட்டது."),
    "no_such_meeting": ("There is no such meeting in this office.", "इस कार्यालय में ऐसी कोई बैठक नहीं है।",
                        "இந்த அலுவலகத்தில் அப்படி ஒரு கூட்டம் இல்லை."),
    "no_such_participant": ("There is no such participant in this meeting.", "इस बैठक में ऐसा कोई प्रतिभागी नहीं है।",
                            "இந்தக் கூட்டத்தில் அப்படி ஒரு பங்கேற்பாளர் இல்லை."),
    "no_such_item": ("There is no such item in this meeting.", "इस बैठक में ऐसा कोई बिंदु नहीं है।",
                     "இந்தக் கூட்டத்தில் அப்படி ஒரு குறிப்பு இல்லை."),
    "no_summary": ("This meeting has no summary yet: it is written after the meeting ends.",
                   "इस बैठक का सारांश अभी नहीं है: यह बैठक समाप्त होने के बाद लिखा जाता है।",
                   "இந்தக் கூட்டத்துக்கு இன்னும் சுருக்கம் இல்லை: கூட்டம் முடிந்த பிறகு எழுதப்படும்."),
    "notetaker": ("The AI note-taker is not muted or removed: stop the recording instead.",
                  "एआई नोट-टेकर को म्यूट या हटाया नहीं जाता: इसके बजाय रिकॉर्डिंग रोकें।",
                  "AI குறிப்பாளரை ஒலியடக்கவோ நீக்கவோ முடியாது: பதிலாகப் பதிவை நிறுத்துங்கள்."),
    "citizen_only": ("A phone number or a hall microphone is for a citizen's token.",
                     "फ़ोन नंबर या हॉल माइक्रोफ़ोन नागरिक के टोकन के लिए है।",
                     "தொலைபேசி எண் அல்லது அரங்க ஒலிவாங்கி ஒரு குடிமகனின் டோக்கனுக்கானது."),
    "dropped": ("This grievance was dropped: accept it first.", "यह शिकायत हटा दी गई थी: पहले इसे स्वीकार करें।",
                "இந்தக் குறை கைவிடப்பட்டது: முதலில் அதை ஏற்றுக்கொள்ளுங்கள்."),
    "has_complaint": ("This grievance is a complaint already: work on it there.",
                      "यह शिकायत पहले से दर्ज है: उस पर वहीं काम करें।",
                      "இந்தக் குறை ஏற்கனவே ஒரு புகாராக உள்ளது: அங்கே அதில் வேலை செய்யுங்கள்."),
    "move": ("The item cannot move to that status from its current one.", "यह बिंदु अपनी मौजूदा स्थिति से उस स्थिति में नहीं जा सकता।",
             "இந்தக் குறிப்பு அதன் தற்போதைய நிலையிலிருந்து அந்த நிலைக்கு மாற முடியாது."),
    "not_a_grievance": ("Only a grievance becomes a complaint.", "केवल शिकायत ही दर्ज शिकायत बनती है।",
                        "ஒரு குறை மட்டுமே புகாராக மாறும்."),
    "not_an_action": ("Only an action has an owner, a due date and is done.", "केवल कार्य का ही ज़िम्मेदार, नियत तारीख़ होती है और वही पूरा होता है।",
                      "ஒரு செயலுக்கு மட்டுமே பொறுப்பாளர், கெடு தேதி உண்டு; அதுவே முடிக்கப்படும்."),
    "not_a_member": ("The owner must be an active member of the office's team.", "ज़िम्मेदार व्यक्ति कार्यालय की टीम का सक्रिय सदस्य होना चाहिए।",
                     "பொறுப்பாளர் அலுவலகக் குழுவின் செயலில் உள்ள உறுப்பினராக இருக்க வேண்டும்."),
    "already_taken": ("This {field} is already in use.", "यह {field} पहले से इस्तेमाल में है।",
                      "இந்த {field} ஏற்கனவே பயன்பாட்டில் உள்ளது."),
    "email.already_taken": ("This email already has a login.", "इस ईमेल का पहले से लॉगिन है।",
                            "இந்த மின்னஞ்சலுக்கு ஏற்கனவே உள்நுழைவு உள்ளது."),
    "admin_email.already_taken": ("This email already has a login.", "इस ईमेल का पहले से लॉगिन है।",
                                  "இந்த மின்னஞ்சலுக்கு ஏற்கனவே உள்நுழைவு உள்ளது."),
    "phone_numbers.already_taken": ("This phone number already belongs to an office.", "यह फ़ोन नंबर पहले से किसी कार्यालय का है।",
                                    "இந்த தொலைபேசி எண் ஏற்கனவே ஒரு அலுவலகத்துக்குச் சொந்தமானது."),
    "name.already_taken": ("Another agent of this office has this name.", "इस कार्यालय के दूसरे एजेंट का यही नाम है।",
                           "இந்த அலுவலகத்தின் வேறொரு முகவருக்கு இதே பெயர் உள்ளது."),
    "last_admin": ("The office needs at least one admin: make someone else an admin first.",
                   "कार्यालय में कम से कम एक एडमिन होना चाहिए: पहले किसी और को एडमिन बनाएं।",
                   "அலுவலகத்துக்குக் குறைந்தது ஒரு நிர்வாகி தேவை: முதலில் வேறொருவரை நிர்வாகியாக்கவும்."),
    "invalid_invitation": ("This invitation is invalid, expired or already used. Ask the office's admin to send it again.",
                           "यह निमंत्रण अमान्य है, समाप्त हो गया है या पहले ही इस्तेमाल हो चुका है। कार्यालय के एडमिन से इसे फिर से भेजने को कहें।",
                           "இந்த அழைப்பு செல்லாதது, காலாவதியானது அல்லது ஏற்கனவே பயன்படுத்தப்பட்டது. அலுவலக நிர்வாகியிடம் மீண்டும் அனுப்பச் சொல்லவும்."),
    "invalid_reset_link": ("This reset link is invalid, expired or already used.",
                           "यह रीसेट लिंक अमान्य है, समाप्त हो गया है या पहले ही इस्तेमाल हो चुका है।",
                           "இந்த மீட்டமைப்பு இணைப்பு செல்லாதது, காலாவதியானது அல்லது ஏற்கனவே பயன்படுத்தப்பட்டது."),
    "already_accepted": ("This member has already accepted the invitation.", "यह सदस्य निमंत्रण पहले ही स्वीकार कर चुका है।",
                         "இந்த உறுப்பினர் ஏற்கனவே அழைப்பை ஏற்றுக்கொண்டார்."),
    "disabled": ("This member is disabled: enable them first.", "यह सदस्य निष्क्रिय है: पहले उसे सक्रिय करें।",
                 "இந்த உறுப்பினர் முடக்கப்பட்டுள்ளார்: முதலில் இயக்கவும்."),
    "weak_password": ("This password is too weak: use at least 10 characters that are hard to guess.",
                      "यह पासवर्ड बहुत कमज़ोर है: कम से कम 10 अक्षर इस्तेमाल करें जिनका अंदाज़ा लगाना कठिन हो।",
                      "இந்தக் கடவுச்சொல் மிகவும் பலவீனமானது: ஊகிக்க கடினமான குறைந்தது 10 எழுத்துகளைப் பயன்படுத்தவும்."),
    "answered_by_another_agent": ("This phone number is already answered by another agent.",
                                  "इस फ़ोन नंबर का जवाब पहले से दूसरा एजेंट देता है।",
                                  "இந்த தொலைபேசி எண்ணுக்கு ஏற்கனவே வேறொரு முகவர் பதிலளிக்கிறார்."),
    "stale": ("Someone else changed this first. Here it is as it is now; make your change again.",
              "किसी और ने इसे पहले बदल दिया। यह अब ऐसा है; अपना बदलाव फिर से करें।",
              "வேறொருவர் இதை முதலில் மாற்றினார். இப்போது உள்ளபடி இதோ; உங்கள் மாற்றத்தை மீண்டும் செய்யவும்."),
    "limit": ("This office already has as many agents as it can have.", "इस कार्यालय के पास पहले से अधिकतम एजेंट हैं।",
              "இந்த அலுவலகத்தில் ஏற்கனவே அதிகபட்ச முகவர்கள் உள்ளனர்."),
    "main_agent": ("The office's main agent cannot be removed.", "कार्यालय का मुख्य एजेंट हटाया नहीं जा सकता।",
                   "அலுவலகத்தின் முதன்மை முகவரை நீக்க முடியாது."),
    "livekit_not_configured": ("Test calls are not set up on this platform yet.", "इस प्लेटफ़ॉर्म पर अभी टेस्ट कॉल की व्यवस्था नहीं है।",
                               "இந்தத் தளத்தில் சோதனை அழைப்புகள் இன்னும் அமைக்கப்படவில்லை."),
    "required": ("Fill in the {field}.", "{field} भरें।", "{field} நிரப்பப்பட வேண்டும்."),
    "duplicate_of.required": ("Say which complaint this duplicates: enter the original's reference.",
                              "बताएं कि यह किस शिकायत की दोहराई है: मूल शिकायत का संदर्भ लिखें।",
                              "இது எந்தப் புகாரின் நகல் என்று சொல்லவும்: மூலப் புகாரின் குறிப்பு எண்ணை உள்ளிடவும்."),
    "self": ("A complaint cannot duplicate itself.", "कोई शिकायत अपनी ही दोहराई नहीं हो सकती।",
             "ஒரு புகார் தன்னையே நகலெடுக்க முடியாது."),
    "is_duplicate": ("That complaint is itself a duplicate: name its original instead.",
                     "वह शिकायत खुद दोहराई है: उसकी मूल शिकायत बताएं।",
                     "அந்தப் புகாரே ஒரு நகல்: அதன் மூலப் புகாரைக் குறிப்பிடவும்."),
    "unknown_user": ("This person is not a member of the office's team.", "यह व्यक्ति कार्यालय की टीम का सदस्य नहीं है।",
                     "இவர் அலுவலகக் குழுவின் உறுப்பினர் அல்ல."),
    "unknown": ("This {field} is not one the office has.", "यह {field} कार्यालय में नहीं है।",
                "இந்த {field} அலுவலகத்தில் இல்லை."),
    "unknown category": ("This category is not one the office has.", "यह श्रेणी कार्यालय में नहीं है।",
                         "இந்த வகை அலுவலகத்தில் இல்லை."),
    # Caller memory (`/api/mem0`).
    "entity_required": ("Name a caller (user_id), an agent (agent_id) or a call (run_id) in the filters.",
                        "फ़िल्टर में कॉलर (user_id), एजेंट (agent_id) या कॉल (run_id) बताएं।",
                        "வடிகட்டியில் அழைப்பாளர் (user_id), முகவர் (agent_id) அல்லது அழைப்பு (run_id) ஒன்றைக் குறிப்பிடவும்."),
    "invalid_filter": ("These filters are not understood: {problem}.", "ये फ़िल्टर समझ में नहीं आए: {problem}।",
                       "இந்த வடிகட்டிகள் புரியவில்லை: {problem}."),
    "duplicate": ("The caller already has a memory with this text.", "कॉलर की इसी पाठ वाली याद पहले से है।",
                       "அழைப்பாளருக்கு இதே உரையுடன் ஒரு நினைவு ஏற்கனவே உள்ளது."),
    "empty": ("Nothing was changed.", "कुछ भी नहीं बदला गया।", "எதுவும் மாற்றப்படவில்லை."),
    "invalid_transition": ("The complaint cannot go to this status from the one it is in.",
                           "शिकायत अपनी मौजूदा स्थिति से इस स्थिति में नहीं जा सकती।",
                           "புகார் அதன் தற்போதைய நிலையிலிருந்து இந்த நிலைக்குச் செல்ல முடியாது."),
    "invalid_cursor": ("This page link is not valid: start again from the first page.",
                       "यह पेज लिंक मान्य नहीं है: पहले पेज से फिर शुरू करें।",
                       "இந்தப் பக்க இணைப்பு செல்லாது: முதல் பக்கத்திலிருந்து மீண்டும் தொடங்கவும்."),
    "reused_with_different_body": ("This Idempotency-Key was already used for a different request.",
                                   "यह Idempotency-Key पहले किसी दूसरे अनुरोध के लिए इस्तेमाल हो चुकी है।",
                                   "இந்த Idempotency-Key ஏற்கனவே வேறொரு கோரிக்கைக்குப் பயன்படுத்தப்பட்டது."),
    "control_character": ("The {field} holds a character that cannot be accepted (a control character): remove it.",
                          "{field} में ऐसा अक्षर है जिसे स्वीकार नहीं किया जा सकता (नियंत्रण अक्षर): उसे हटाएं।",
                          "{field} இல் ஏற்க முடியாத எழுத்து (கட்டுப்பாட்டு எழுத்து) உள்ளது: அதை நீக்கவும்."),
    "lone_surrogate": ("The {field} holds a character that cannot be accepted: remove it.",
                       "{field} में ऐसा अक्षर है जिसे स्वीकार नहीं किया जा सकता: उसे हटाएं।",
                       "{field} இல் ஏற்க முடியாத எழுத்து உள்ளது: அதை நீக்கவும்."),
    "unsupported_media": ("This kind of request body is not accepted: send JSON.", "इस तरह का अनुरोध स्वीकार नहीं है: JSON भेजें।",
                          "இந்த வகைக் கோரிக்கை ஏற்கப்படாது: JSON அனுப்பவும்."),
    # helper B (issue 15, item 2): a duplicate's original checked before it is confirmed, and its undoing.
    "no_such_complaint": ("This office has no complaint with this reference.", "इस कार्यालय में इस संदर्भ की कोई शिकायत नहीं है।",
                          "இந்த அலுவலகத்தில் இந்தக் குறிப்பு எண் கொண்ட புகார் இல்லை."),
    "duplicate_of.no_such_complaint": ("This office has no complaint with this reference: check the number, e.g. #1002.",
                                       "इस कार्यालय में इस संदर्भ की कोई शिकायत नहीं है: संख्या जांचें, जैसे #1002।",
                                       "இந்த அலுவலகத்தில் இந்தக் குறிப்பு எண் கொண்ட புகார் இல்லை: எண்ணைச் சரிபார்க்கவும், எ.கா. #1002."),
    "not_duplicate": ("This complaint is not marked a duplicate, so there is nothing to undo.",
                      "यह शिकायत दोहराई के रूप में दर्ज नहीं है, इसलिए वापस लेने को कुछ नहीं है।",
                      "இந்தப் புகார் நகலாகக் குறிக்கப்படவில்லை; எனவே திரும்பப் பெற எதுவும் இல்லை."),
    # What our validators raise as a ValueError (pydantic's `value_error`), by what it is about.
    "invalid_email": ("Enter a valid email address, like name@example.in.", "मान्य ईमेल पता लिखें, जैसे name@example.in।",
                      "சரியான மின்னஞ்சல் முகவரியை உள்ளிடவும், எ.கா. name@example.in."),
    "indian_phone": ("Enter an Indian phone number: a mobile such as 98400 12345, a landline with its STD code such as 044 2345 6789, or a toll-free number such as 1800 425 1234.",
                     "भारतीय फ़ोन नंबर लिखें: मोबाइल, जैसे 98400 12345; STD कोड के साथ लैंडलाइन, जैसे 044 2345 6789; या टोल-फ़्री नंबर, जैसे 1800 425 1234।",
                     "இந்திய தொலைபேசி எண்ணை உள்ளிடவும்: மொபைல், எ.கா. 98400 12345; STD குறியீட்டுடன் தரைவழி எண், எ.கா. 044 2345 6789; அல்லது கட்டணமில்லா எண், எ.கா. 1800 425 1234."),
    "unsupported_language": ("Choose Tamil, Hindi or English.", "तमिल, हिन्दी या अंग्रेज़ी चुनें।",
                             "தமிழ், இந்தி அல்லது ஆங்கிலத்தைத் தேர்ந்தெடுக்கவும்."),
    "repeated_value": ("The {field} repeat a value: give each one once.", "{field} में कोई मान दोहराया गया है: हर एक को एक बार दें।",
                       "{field} இல் ஒரு மதிப்பு மீண்டும் வருகிறது: ஒவ்வொன்றையும் ஒருமுறை கொடுக்கவும்."),
    "unknown_state": ("Choose an Indian state or union territory with a legislative assembly.",
                      "विधानसभा वाला कोई भारतीय राज्य या केंद्र शासित प्रदेश चुनें।",
                      "சட்டமன்றம் உள்ள ஒரு இந்திய மாநிலம் அல்லது யூனியன் பிரதேசத்தைத் தேர்ந்தெடுக்கவும்."),
    "repeated_category": ("Each category needs its own code.", "हर श्रेणी का अपना कोड होना चाहिए।",
                          "ஒவ்வொரு வகைக்கும் தனிக் குறியீடு தேவை."),
    "sms_text": ("The {field} cannot go in an SMS as it is: use letters, digits and simple punctuation, at most a few digits, no links.",
                 "{field} इस रूप में SMS में नहीं जा सकता: अक्षर, अंक और सामान्य विराम चिह्न इस्तेमाल करें, कुछ ही अंक, कोई लिंक नहीं।",
                 "{field} இப்படியே SMS இல் செல்ல முடியாது: எழுத்துகள், இலக்கங்கள், எளிய நிறுத்தற்குறிகள், சில இலக்கங்கள் மட்டும், இணைப்புகள் இல்லை."),
    "value_error": ("The {field} is not valid.", "{field} मान्य नहीं है।", "{field} சரியானது அல்ல."),
    # helper D (issue 15, items 4-5): invitations that no longer open, and the password rule
    # (`identity.accounts.PASSWORD_MIN_LENGTH` / `PASSWORD_MAX_LENGTH` arrive as {min_length} / {max_length}).
    "invitation_used": ("This invitation has already been accepted: sign in with its email and your password.",
                        "यह निमंत्रण पहले ही स्वीकार हो चुका है: उसके ईमेल और अपने पासवर्ड से साइन इन करें।",
                        "இந்த அழைப்பு ஏற்கனவே ஏற்கப்பட்டது: அதன் மின்னஞ்சல் மற்றும் உங்கள் கடவுச்சொல்லுடன் உள்நுழையவும்."),
    "invitation_expired": ("This invitation has expired: ask the office for a new one.",
                           "यह निमंत्रण समाप्त हो गया है: कार्यालय से नया निमंत्रण मांगें।",
                           "இந்த அழைப்பு காலாவதியானது: அலுவலகத்திடம் புதிய அழைப்பைக் கேட்கவும்."),
    "password.string_too_short": ("A password needs at least {min_length} characters.",
                                  "पासवर्ड में कम से कम {min_length} अक्षर होने चाहिए।",
                                  "கடவுச்சொல்லில் குறைந்தது {min_length} எழுத்துகள் இருக்க வேண்டும்."),
    "password.string_too_long": ("A password can have at most {max_length} characters.",
                                 "पासवर्ड में अधिकतम {max_length} अक्षर हो सकते हैं।",
                                 "கடவுச்சொல்லில் அதிகபட்சம் {max_length} எழுத்துகள் இருக்கலாம்."),
    # helper A (issue 15, item 10): a state that is a slip for one of ours ("Tamilnadu").
    "unknown_state_near": ("Choose an Indian state or union territory with a legislative assembly: did you mean {suggestion}?",
                           "विधानसभा वाला कोई भारतीय राज्य या केंद्र शासित प्रदेश चुनें: क्या आपका मतलब {suggestion} है?",
                           "சட்டமன்றம் உள்ள ஒரு இந்திய மாநிலம் அல்லது யூனியன் பிரதேசத்தைத் தேர்ந்தெடுக்கவும்: நீங்கள் குறிப்பிட்டது {suggestion} ஆ?"),
    # Pydantic's error types.
    "missing": ("Fill in the {field}.", "{field} भरें।", "{field} நிரப்பப்பட வேண்டும்."),
    "string_too_short": ("The {field} needs at least {min_length} characters.", "{field} में कम से कम {min_length} अक्षर होने चाहिए।",
                         "{field} குறைந்தது {min_length} எழுத்துகள் இருக்க வேண்டும்."),
    "string_too_long": ("The {field} can have at most {max_length} characters.", "{field} में अधिकतम {max_length} अक्षर हो सकते हैं।",
                        "{field} அதிகபட்சம் {max_length} எழுத்துகள் இருக்கலாம்."),
    "too_short": ("Give at least {min_length} {field}.", "कम से कम {min_length} {field} दें।",
                  "குறைந்தது {min_length} {field} கொடுக்கவும்."),
    "category.missing": ("Choose a category.", "एक श्रेणी चुनें।", "ஒரு வகையைத் தேர்ந்தெடுக்கவும்."),
    "languages.too_short": ("Choose at least one language.", "कम से कम एक भाषा चुनें।", "குறைந்தது ஒரு மொழியைத் தேர்ந்தெடுக்கவும்."),
    "languages.missing": ("Choose at least one language.", "कम से कम एक भाषा चुनें।", "குறைந்தது ஒரு மொழியைத் தேர்ந்தெடுக்கவும்."),
    "phone_numbers.too_short": ("Enter at least one phone number.", "कम से कम एक फ़ोन नंबर लिखें।",
                                "குறைந்தது ஒரு தொலைபேசி எண்ணை உள்ளிடவும்."),
    "phone_numbers.missing": ("Enter at least one phone number.", "कम से कम एक फ़ोन नंबर लिखें।",
                              "குறைந்தது ஒரு தொலைபேசி எண்ணை உள்ளிடவும்."),
    "too_long": ("Give at most {max_length} {field}.", "अधिकतम {max_length} {field} दें।",
                 "அதிகபட்சம் {max_length} {field} கொடுக்கவும்."),
    "string_pattern_mismatch": ("The {field} is not in the expected form.", "{field} सही रूप में नहीं है।",
                                "{field} எதிர்பார்த்த வடிவத்தில் இல்லை."),
    "literal_error": ("Choose one of: {expected}.", "इनमें से एक चुनें: {expected}।", "இவற்றில் ஒன்றைத் தேர்ந்தெடுக்கவும்: {expected}."),
    # A page offers its choices in a list: its error names none of their codes.
    "choose_from_list": ("Choose one from the list.", "सूची में से एक चुनें।", "பட்டியலில் இருந்து ஒன்றைத் தேர்ந்தெடுக்கவும்."),
    "enum": ("Choose one of: {expected}.", "इनमें से एक चुनें: {expected}।", "இவற்றில் ஒன்றைத் தேர்ந்தெடுக்கவும்: {expected}."),
    "int_parsing": ("The {field} must be a whole number.", "{field} एक पूर्ण संख्या होनी चाहिए।", "{field} ஒரு முழு எண்ணாக இருக்க வேண்டும்."),
    "int_type": ("The {field} must be a whole number.", "{field} एक पूर्ण संख्या होनी चाहिए।", "{field} ஒரு முழு எண்ணாக இருக்க வேண்டும்."),
    "greater_than": ("The {field} must be more than {gt}.", "{field} {gt} से अधिक होना चाहिए।", "{field} {gt} ஐ விட அதிகமாக இருக்க வேண்டும்."),
    "greater_than_equal": ("The {field} must be at least {ge}.", "{field} कम से कम {ge} होना चाहिए।", "{field} குறைந்தது {ge} ஆக இருக்க வேண்டும்."),
    "less_than": ("The {field} must be less than {lt}.", "{field} {lt} से कम होना चाहिए।", "{field} {lt} ஐ விடக் குறைவாக இருக்க வேண்டும்."),
    "less_than_equal": ("The {field} can be at most {le}.", "{field} अधिकतम {le} हो सकता है।", "{field} அதிகபட்சம் {le} ஆக இருக்கலாம்."),
    "uuid_parsing": ("The {field} is not a valid id.", "{field} मान्य आईडी नहीं है।", "{field} சரியான அடையாளம் அல்ல."),
    "uuid_type": ("The {field} is not a valid id.", "{field} मान्य आईडी नहीं है।", "{field} சரியான அடையாளம் அல்ல."),
    "bool_parsing": ("The {field} must be yes or no.", "{field} हां या नहीं होना चाहिए।", "{field} ஆம் அல்லது இல்லை என இருக்க வேண்டும்."),
    "date_from_datetime_parsing": ("Enter a date, like 2026-03-11.", "तारीख लिखें, जैसे 2026-03-11।", "தேதியை உள்ளிடவும், எ.கா. 2026-03-11."),
    "date_parsing": ("Enter a date, like 2026-03-11.", "तारीख लिखें, जैसे 2026-03-11।", "தேதியை உள்ளிடவும், எ.கா. 2026-03-11."),
    "datetime_parsing": ("Enter a date and time.", "तारीख और समय लिखें।", "தேதியும் நேரமும் உள்ளிடவும்."),
    "string_type": ("The {field} must be text.", "{field} पाठ होना चाहिए।", "{field} உரையாக இருக்க வேண்டும்."),
    "list_type": ("The {field} must be a list.", "{field} एक सूची होनी चाहिए।", "{field} ஒரு பட்டியலாக இருக்க வேண்டும்."),
    "extra_forbidden": ("The {field} is not a field this request takes.", "{field} इस अनुरोध का फ़ील्ड नहीं है।",
                        "{field} இந்தக் கோரிக்கையின் புலம் அல்ல."),
    "json_invalid": ("The request body is not valid JSON.", "अनुरोध का JSON मान्य नहीं है।", "கோரிக்கையின் JSON சரியானது அல்ல."),
    "model_attributes_type": ("The request body must be a JSON object.", "अनुरोध एक JSON ऑब्जेक्ट होना चाहिए।",
                              "கோரிக்கை ஒரு JSON பொருளாக இருக்க வேண்டும்."),
    "dict_type": ("The {field} must be a JSON object.", "{field} एक JSON ऑब्जेक्ट होना चाहिए।", "{field} ஒரு JSON பொருளாக இருக்க வேண்டும்."),
}  # fmt: skip

# The envelope's codes, for an error whose detail the catalogue does not name.
CODES: dict[str, Sentence] = {
    "validation_error": ("The request is not valid: see each field.", "अनुरोध मान्य नहीं है: हर फ़ील्ड देखें।",
                         "கோரிக்கை சரியானது அல்ல: ஒவ்வொரு புலத்தையும் பார்க்கவும்."),
    "not_found": ("Not found.", "नहीं मिला।", "கிடைக்கவில்லை."),
    "conflict": ("This clashes with what is already there.", "यह पहले से मौजूद चीज़ से टकराता है।",
                 "இது ஏற்கனவே உள்ளதுடன் முரண்படுகிறது."),
    "unauthenticated": ("Sign in first.", "पहले साइन इन करें।", "முதலில் உள்நுழையவும்."),
    "forbidden": ("You are not allowed to do this.", "आपको यह करने की अनुमति नहीं है।", "இதைச் செய்ய உங்களுக்கு அனுமதி இல்லை."),
    "rate_limited": ("Too many attempts: try again later.", "बहुत सारे प्रयास: बाद में फिर से कोशिश करें।",
                     "பல முயற்சிகள்: பின்னர் மீண்டும் முயலவும்."),
    "bad_request": ("The request cannot be read.", "अनुरोध पढ़ा नहीं जा सका।", "கோரிக்கையைப் படிக்க முடியவில்லை."),
    "method_not_allowed": ("This address does not take this kind of request.", "यह पता इस तरह का अनुरोध नहीं लेता।",
                           "இந்த முகவரி இந்த வகைக் கோரிக்கையை ஏற்காது."),
    "payload_too_large": ("The request is too large.", "अनुरोध बहुत बड़ा है।", "கோரிக்கை மிகப் பெரியது."),
    "unsupported_media_type": ("This kind of request body is not accepted.", "इस तरह का अनुरोध स्वीकार नहीं है।",
                               "இந்த வகைக் கோரிக்கை ஏற்கப்படாது."),
    "internal_error": ("Something went wrong on our side. Please try again in a moment.",
                       "हमारी ओर से कुछ गड़बड़ हो गई। कृपया थोड़ी देर में फिर से कोशिश करें।",
                       "எங்கள் பக்கத்தில் ஏதோ தவறு நடந்தது. சிறிது நேரத்தில் மீண்டும் முயலவும்."),
    "service_unavailable": ("A service we rely on is briefly unavailable: try again in a moment.",
                            "हम जिस सेवा पर निर्भर हैं वह कुछ देर के लिए उपलब्ध नहीं है: थोड़ी देर में फिर से कोशिश करें।",
                            "நாங்கள் சார்ந்திருக்கும் சேவை சிறிது நேரம் கிடைக்கவில்லை: சிறிது நேரத்தில் மீண்டும் முயலவும்."),
    "vendor_error": ("A service we rely on refused this request.", "हम जिस सेवा पर निर्भर हैं उसने यह अनुरोध अस्वीकार किया।",
                     "நாங்கள் சார்ந்திருக்கும் சேவை இந்தக் கோரிக்கையை மறுத்தது."),
    "configuration_error": ("The platform is not fully set up for this yet.", "प्लेटफ़ॉर्म अभी इसके लिए पूरी तरह तैयार नहीं है।",
                            "தளம் இதற்கு இன்னும் முழுமையாக அமைக்கப்படவில்லை."),
}  # fmt: skip

# An HTTP status refused by the framework itself (routing, Starlette) as the envelope's code.
STATUS_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
                422: "validation_error", 429: "rate_limited"}  # fmt: skip

# Our validators' English (a ValueError's words, which pydantic reports as `value_error`) to the
# reason above: matched by its start, so the English can name a value after it.
_VALUE_ERRORS: tuple[tuple[str, str], ...] = (
    ("value is not a valid email address", "invalid_email"),
    ("unsupported language", "unsupported_language"),
    ("must not repeat a value", "repeated_value"),
    ("must be an Indian state or union territory", "unknown_state"),
    ("each category needs its own code", "repeated_category"),
    ("must not be empty", "missing"),
    ("at most ", "sms_text"),
    ("only letters, digits", "sms_text"),
    ("must be an Indian phone number", "indian_phone"),
)
_INDEX = re.compile(r"^\d+$")


def column(lang: str) -> int:
    return COLUMNS.index(lang) if lang in COLUMNS else 0


def negotiate(accept_language: str | None) -> LanguageCode:
    """The language to answer in for an `Accept-Language` header (RFC 9110: the highest q-value of
    ours wins, a region such as `hi-IN` counts as its language, `*` as English); English without one."""
    best: tuple[float, int, LanguageCode] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        code = "en" if primary == "*" else primary
        if code not in COLUMNS or quality <= 0:
            continue
        # Higher quality first; between equals, the one the client listed first.
        if best is None or (quality, -position) > (best[0], -best[1]):
            best = (quality, position, code)
    return best[2] if best else "en"


def field_name(field: str, lang: str) -> str:
    """A field (`phone_numbers.1`, `body.email`) named in words; one we lack, as it is named."""
    parts = [part for part in field.split(".") if part and not _INDEX.match(part)]
    for part in reversed(parts):
        if part in FIELDS:
            words = FIELDS[part]
            return words[column(lang)] or words[0]
    return parts[-1] if parts else field


def _reason_key(reason: str, kind: str | None, english: str) -> str:
    """What the catalogue knows this error as: a pydantic type, or our reason, or our validator's words."""
    if kind == "value_error" or (kind is None and reason not in REASONS):
        text = english.removeprefix("Value error, ")
        for start, key in _VALUE_ERRORS:
            if text.startswith(start):
                return key
    if kind and kind in REASONS and kind not in ("value_error",):
        return kind
    return reason if reason in REASONS else (kind or reason)


def sentence(
    reason: str,
    lang: str,
    *,
    field: str = "",
    kind: str | None = None,
    english: str = "",
    ctx: Mapping[str, Any] | None = None,
) -> str | None:
    """The sentence for one error about `field`, in `lang`; None if the catalogue has none for it.
    `reason` is our reason or pydantic's message, `kind` pydantic's error type, `english` the words
    the error came with (a validator's ValueError), `ctx` pydantic's limits."""
    key = _reason_key(reason, kind, english or reason)
    base = field.split(".")[0] if field else ""
    words = REASONS.get(f"{base}.{key}")
    if words is None and key in ("string_too_short", "too_short") and (ctx or {}).get("min_length") == 1:
        key = "missing"  # "at least 1 characters": a blank field
    words = words or REASONS.get(key)
    if words is None:
        return None
    values = {str(k): _plain(v) for k, v in (ctx or {}).items()}
    text = words[column(lang)] or words[0]
    try:
        filled = text.format(**{**values, "field": field_name(field, lang) if field else FIELDS["form"][column(lang)]})
    except (KeyError, IndexError, ValueError):
        return None
    return filled[0].upper() + filled[1:] if filled else filled


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value.replace("'", "")
    if isinstance(value, Iterable):
        return ", ".join(str(item) for item in value)
    return str(value)


def detail_sentence(detail: Mapping[str, Any], lang: str) -> str | None:
    """One detail of an error (`{"field", "reason", "type"?}`) as a sentence in `lang`."""
    return sentence(
        str(detail.get("reason", "")),
        lang,
        field=str(detail.get("field", "")),
        kind=detail.get("type") if isinstance(detail.get("type"), str) else None,
        english=str(detail.get("reason", "")),
        ctx=detail.get("ctx") if isinstance(detail.get("ctx"), Mapping) else None,
    )


def pydantic_sentence(error: Mapping[str, Any], field: str, lang: str) -> str:
    """One of pydantic's errors (from `ValidationError.errors()`) as a sentence in `lang`: the
    catalogue's, else pydantic's own words (in English), else that the field is not valid."""
    kind = str(error.get("type", ""))
    english = str(error.get("msg", "")).removeprefix("Value error, ")
    found = sentence(english, lang, field=field, kind=kind, english=english, ctx=error.get("ctx"))
    if found is not None:
        return found
    if lang == "en" and english:
        return english
    return sentence("value_error", lang, field=field) or english


def error_sentence(code: str, message: str, details: Iterable[Mapping[str, Any]], lang: str) -> str:
    """An error's message in `lang`: the domain's own English words in English; otherwise the
    sentence for its first detail the catalogue names, else the one for its code, else the English."""
    if lang == "en":
        return message
    for detail in details:
        found = detail_sentence(detail, lang)
        if found is not None:
            return found
    words = CODES.get(code)
    return (words[column(lang)] or words[0]) if words else message
