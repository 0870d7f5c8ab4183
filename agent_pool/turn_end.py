"""Whether a caller has finished their sentence, from the words the STT heard.

Silero VAD hears when a caller stops making sound, not whether they finished: an elderly caller who
says "the water pipe near", thinks for two seconds and goes on "the temple is broken" has two stretches
of speech. With VAD alone the turn would end 0.45 s (the VAD's silence) + the endpointing `min_delay`
into the pause, and the agent would answer half a sentence. LiveKit's turn-detector model would catch
this, but it covers Hindi and not Tamil (and runs in LiveKit's cloud or needs a model download).

`UnfinishedSentence` is a turn detector at livekit-agents' `_TurnDetector` interface: when the heard
words end on one that cannot end a sentence (a conjunction, an article, a preposition, a "the … of",
a filler such as "um" or "matlab") it says the turn is unlikely to be over, and the session waits the
endpointing `max_delay` instead of `min_delay`. Any other ending keeps the short delay, so a caller
who finished is answered as quickly as before. The words are per script, and the scripts differ
(Latin, Devanagari, Tamil), so one set serves every language the STT reports.
"""

from __future__ import annotations

import re

from livekit.agents import llm

# Words after which a sentence goes on. Only words that (almost) never end one in a complaint call:
# not a postposition that often ends a short answer ("கோவில் அருகில்", "घर पर"), a verb form ("शिकायत
# की"), a particle of a phrasal verb ("the light is on"), or a word ending a question ("उसका मतलब?",
# "உங்கள் பெயர் என்ன?", "since when?"). A word missing here costs a cut-off; one wrongly here costs
# `max_delay` of waiting.
_GOES_ON = {
    "en": (
        "and or but because which if than the a an of to at near with into between "
        "my our your their his is are was were um uh er erm"
    ),
    "hi": "और एवं तथा या लेकिन मगर परंतु किंतु कि क्योंकि जो जब अगर के मेरे मेरा मेरी हमारे हमारा हमारी यानी",
    "ta": "மற்றும் ஆனால் அல்லது ஏனென்றால் ஏன்னா அதனால் என்று அந்த இந்த ஒரு எங்கள் எங்க என் வந்து அதாவது",
}
GOES_ON: frozenset[str] = frozenset(word for words in _GOES_ON.values() for word in words.split())
# A trailing comma, dash or ellipsis: the STT heard the voice trail off mid-sentence.
_TRAILING_OFF = re.compile(r"(,|-|–|—|\.\.\.|…)\s*$")
_EDGE_PUNCTUATION = ".,;:!?।॥\"'“”‘’()[]"

FINISHED = 0.95
UNFINISHED = 0.05
# Below this, the session waits `max_delay` for more.
UNLIKELY_THRESHOLD = 0.5


def sentence_goes_on(text: str) -> bool:
    """Whether `text` (what the caller has said so far this turn) stops where a sentence cannot end."""
    if _TRAILING_OFF.search(text):
        return True
    words = text.split()
    if not words:
        return False
    return words[-1].strip(_EDGE_PUNCTUATION).casefold() in GOES_ON


class UnfinishedSentence:
    """livekit-agents' `_TurnDetector`: the end of a turn is unlikely after a word a sentence goes on from."""

    @property
    def model(self) -> str:
        return "unfinished-sentence"

    @property
    def provider(self) -> str:
        return "agent_pool"

    async def unlikely_threshold(self, language: str | None) -> float | None:
        return UNLIKELY_THRESHOLD

    async def supports_language(self, language: str | None) -> bool:
        return True

    async def predict_end_of_turn(self, chat_ctx: llm.ChatContext, *, timeout: float | None = None) -> float:
        said = next(
            (
                item.text_content or ""
                for item in reversed(chat_ctx.items)
                if item.type == "message" and item.role == "user"
            ),
            "",
        )
        return UNFINISHED if sentence_goes_on(said) else FINISHED
