-- Reference numbers while Redis is unavailable. Redis's counter issues references below 9,000,000
-- (mla_core.adapters.upstash.REFERENCE_CEILING, which refuses to go higher); this sequence issues
-- them from 9,000,001 up, so a reference taken during an outage never meets one Redis issues before
-- or after it, a complaint still waiting in the queue included. nextval never blocks and is never
-- rolled back: a number is never given twice.
CREATE SEQUENCE complaint_fallback_reference AS bigint START WITH 9000001 MINVALUE 9000001 NO CYCLE;
