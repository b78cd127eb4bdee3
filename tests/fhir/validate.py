"""Validates Chorus's FHIR output with a tool nobody here wrote.

usage: validate.py DIR

DIR/questionnaires/*.json are Questionnaires, DIR/responses/*.json QuestionnaireResponses of
them (matched by their canonical `url|version`), DIR/endpoint/*.json what the FHIR endpoint
answers besides them: searchset Bundles (each entry checked as the resource it holds), the
CapabilityStatement and OperationOutcomes. Each resource is parsed by the pydantic models
of the `fhir.resources` package (R4B, the closest to R4 its release ships; pinned in
tests/requirements.txt), which refuse unknown elements and wrongly typed values. The models do
not check code bindings or invariants, so this script also checks the R4 (4.0.1) required
bindings and invariants Chorus's resources touch, and every response against its Questionnaire
(linkIds, answer types, codes, repeats, enableWhen evaluated as the R4 specification defines
it, required items) — independently of the Rust code that wrote them.

Prints one line per problem and `N passed, N failed` (one per file); exits 1 on any failure.
"""

import json
import pathlib
import sys

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

# R4 4.0.1 required value sets.
PUBLICATION_STATUS = {"draft", "active", "retired", "unknown"}
ITEM_TYPES = {
    "group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time",
    "string", "text", "url", "choice", "open-choice", "attachment", "reference", "quantity",
}
OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}
BEHAVIORS = {"all", "any"}
RESPONSE_STATUS = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
# The R4 questionnaire-item-control value set (extensible, but these are the defined codes).
ITEM_CONTROL_CODES = {
    "group": {"list", "table", "htable", "gtable", "atable", "header", "footer"},
    "display": {"inline", "prompt", "unit", "lower", "upper", "flyover", "help", "legal"},
    "question": {"autocomplete", "drop-down", "check-box", "lookup", "radio-button",
                 "slider", "spinner", "text-box"},
}
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
# The answer[x] / value[x] an item type takes (R4 "Questionnaire.item.type" mapping).
VALUE_TYPE = {
    "boolean": "valueBoolean", "integer": "valueInteger", "decimal": "valueDecimal",
    "string": "valueString", "text": "valueString", "choice": "valueCoding",
}


# R4 required bindings of the endpoint's own resources.
ISSUE_SEVERITY = {"fatal", "error", "warning", "information"}
ISSUE_TYPES = {
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown",
    "expired", "forbidden", "suppressed", "processing", "not-supported", "duplicate",
    "multiple-matches", "not-found", "deleted", "too-long", "code-invalid", "extension",
    "too-costly", "business-rule", "conflict", "transient", "lock-error", "no-store",
    "exception", "timeout", "incomplete", "throttled", "informational",
}
TYPE_INTERACTIONS = {"read", "vread", "update", "patch", "delete", "history-instance",
                     "history-type", "create", "search-type"}
SEARCH_PARAM_TYPES = {"number", "date", "string", "token", "reference", "composite",
                      "quantity", "uri", "special"}
BUNDLE_TYPES = {"document", "message", "transaction", "transaction-response", "batch",
                "batch-response", "history", "searchset", "collection"}
SEARCH_MODES = {"match", "include", "outcome"}
ENDPOINT_MODELS = {
    "Bundle": Bundle,
    "CapabilityStatement": CapabilityStatement,
    "OperationOutcome": OperationOutcome,
}


def walk(items):
    for item in items or []:
        yield item
        yield from walk(item.get("item"))


def check_translations(element, where, problems):
    for ext in (element or {}).get("extension", []):
        if ext.get("url") != TRANSLATION:
            continue
        parts = {e.get("url"): e for e in ext.get("extension", [])}
        if set(parts) != {"lang", "content"} or "valueCode" not in parts["lang"] \
                or "valueString" not in parts["content"]:
            problems.append(f"{where}: malformed translation extension {ext}")


def check_questionnaire(q):
    """Problems of one Questionnaire beyond what the models check."""
    problems = []
    if q.get("status") not in PUBLICATION_STATUS:
        problems.append(f"status {q.get('status')!r} is not a publication status")
    check_translations(q.get("_title"), "_title", problems)
    check_translations(q.get("_description"), "_description", problems)
    items = list(walk(q.get("item")))
    ids = [i["linkId"] for i in items]
    if len(ids) != len(set(ids)):
        problems.append("que-2: linkIds are not unique")
    for item in items:
        where = f"item {item['linkId']}"
        kind = item.get("type")
        if kind not in ITEM_TYPES:
            problems.append(f"{where}: type {kind!r} is not an item type")
        if kind == "group" and not item.get("item"):
            problems.append(f"{where}: que-1: a group needs items")
        if kind == "display":
            if item.get("item"):
                problems.append(f"{where}: que-1: a display item cannot have items")
            if "required" in item or "repeats" in item:
                problems.append(f"{where}: que-6: required/repeats on a display item")
            if "code" in item:
                problems.append(f"{where}: que-3: code on a display item")
        if "answerOption" in item and kind not in ("choice", "open-choice"):
            problems.append(f"{where}: que-5: answerOption on a {kind} item")
        if "maxLength" in item and kind not in (
                "boolean", "decimal", "integer", "string", "text", "url", "open-choice"):
            problems.append(f"{where}: que-10: maxLength on a {kind} item")
        conditions = item.get("enableWhen", [])
        if len(conditions) > 1 and "enableBehavior" not in item:
            problems.append(f"{where}: que-12: several enableWhen without enableBehavior")
        if "enableBehavior" in item and item["enableBehavior"] not in BEHAVIORS:
            problems.append(f"{where}: enableBehavior {item['enableBehavior']!r}")
        for c in conditions:
            if c.get("operator") not in OPERATORS:
                problems.append(f"{where}: operator {c.get('operator')!r}")
            if c.get("operator") == "exists" and "answerBoolean" not in c:
                problems.append(f"{where}: que-7: exists needs answerBoolean")
            if c.get("question") not in ids:
                problems.append(f"{where}: enableWhen refers to unknown {c.get('question')!r}")
        for ext in item.get("extension", []):
            if ext.get("url") == ITEM_CONTROL:
                group = {"group": "group", "display": "display"}.get(kind, "question")
                for coding in ext["valueCodeableConcept"]["coding"]:
                    if coding.get("system") != ITEM_CONTROL_SYSTEM or \
                            coding.get("code") not in ITEM_CONTROL_CODES[group]:
                        problems.append(f"{where}: itemControl {coding} on a {kind} item")
            if ext.get("url") in (MIN_VALUE, MAX_VALUE) and "valueInteger" not in ext:
                problems.append(f"{where}: min/maxValue of an integer item needs valueInteger")
        check_translations(item.get("_text"), f"{where} _text", problems)
        for option in item.get("answerOption", []):
            coding = option.get("valueCoding", {})
            if not coding.get("system") or not coding.get("code"):
                problems.append(f"{where}: answerOption without system and code")
            check_translations(coding.get("_display"), f"{where} _display", problems)
    return problems


def value_of(answer):
    values = [k for k in answer if k.startswith("value")]
    return values


def answer_key(item, answer):
    """The comparable value of an answer: booleans, integers, or (system, code)."""
    if "valueCoding" in answer:
        return answer["valueCoding"].get("code")
    for k in ("valueBoolean", "valueInteger", "valueString", "valueDecimal"):
        if k in answer:
            return answer[k]
    return None


def condition_holds(c, answers):
    """R4 enableWhen: `answers` are the values of the referenced (enabled) item."""
    if c["operator"] == "exists":
        return bool(answers) == c["answerBoolean"]
    if "answerCoding" in c:
        expected = c["answerCoding"].get("code")
    else:
        expected = next(v for k, v in c.items() if k.startswith("answer"))
    equal = expected in answers
    if c["operator"] == "=":
        return equal
    if c["operator"] == "!=":
        return not equal
    ordered = [a for a in answers if isinstance(a, (int, float))]
    compare = {">": lambda a: a > expected, "<": lambda a: a < expected,
               ">=": lambda a: a >= expected, "<=": lambda a: a <= expected}[c["operator"]]
    return any(compare(a) for a in ordered)


def check_response(r, questionnaires):
    problems = []
    if r.get("status") not in RESPONSE_STATUS:
        problems.append(f"status {r.get('status')!r} is not a response status")
    q = questionnaires.get(r.get("questionnaire"))
    if q is None:
        return problems + [f"questionnaire {r.get('questionnaire')!r} is not among the files"]
    defs = {i["linkId"]: i for i in walk(q.get("item"))}
    answered = {}
    for item in walk(r.get("item")):
        where = f"item {item['linkId']}"
        if item.get("answer") and item.get("item"):
            problems.append(f"{where}: qrs-1: items both beside and beneath the answers")
        d = defs.get(item["linkId"])
        if d is None:
            problems.append(f"{where}: no such linkId in {r['questionnaire']}")
            continue
        answers = item.get("answer", [])
        if d["type"] == "display" and answers:
            problems.append(f"{where}: a display item has answers")
        if len(answers) > 1 and not d.get("repeats"):
            problems.append(f"{where}: {len(answers)} answers to a non-repeating item")
        for a in answers:
            values = value_of(a)
            expected = VALUE_TYPE.get(d["type"])
            if values != [expected]:
                problems.append(f"{where}: answer {values} to a {d['type']} item")
                continue
            if "valueCoding" in a:
                codes = [(o["valueCoding"].get("system"), o["valueCoding"].get("code"))
                         for o in d.get("answerOption", [])]
                got = (a["valueCoding"].get("system"), a["valueCoding"].get("code"))
                if got not in codes:
                    problems.append(f"{where}: coding {got} is not an answerOption")
            if "valueInteger" in a:
                for ext in d.get("extension", []):
                    if ext["url"] == MIN_VALUE and a["valueInteger"] < ext["valueInteger"]:
                        problems.append(f"{where}: below minValue")
                    if ext["url"] == MAX_VALUE and a["valueInteger"] > ext["valueInteger"]:
                        problems.append(f"{where}: above maxValue")
            if "valueString" in a and "maxLength" in d and len(a["valueString"]) > d["maxLength"]:
                problems.append(f"{where}: longer than maxLength")
        answered[item["linkId"]] = [answer_key(d, a) for a in answers]
    # Enablement in item order: a disabled item counts as unanswered for later conditions.
    enabled_values = {}
    for link, d in defs.items():
        conditions = d.get("enableWhen", [])
        if conditions:
            results = [condition_holds(c, enabled_values.get(c["question"], []))
                       for c in conditions]
            enabled = any(results) if d.get("enableBehavior") == "any" else all(results)
        else:
            enabled = True
        if not enabled:
            if answered.get(link):
                problems.append(f"item {link}: answered although disabled")
            continue
        enabled_values[link] = answered.get(link, [])
        if d.get("required") and not answered.get(link) and r.get("status") == "completed":
            problems.append(f"item {link}: required and enabled, but unanswered")
    return problems


def check_outcome(o):
    problems = []
    if not o.get("issue"):
        problems.append("an OperationOutcome needs an issue")
    for issue in o.get("issue", []):
        if issue.get("severity") not in ISSUE_SEVERITY:
            problems.append(f"issue severity {issue.get('severity')!r}")
        if issue.get("code") not in ISSUE_TYPES:
            problems.append(f"issue code {issue.get('code')!r} is not an issue type")
    return problems


def check_capabilities(c):
    problems = []
    if c.get("status") not in PUBLICATION_STATUS:
        problems.append(f"status {c.get('status')!r}")
    if c.get("fhirVersion") != "4.0.1":
        problems.append(f"fhirVersion {c.get('fhirVersion')!r} is not 4.0.1")
    if not c.get("rest"):
        problems.append("cpb-1: no rest element")
    if c.get("kind") == "instance" and "implementation" not in c:
        problems.append("cpb-14: an instance needs implementation")
    for rest in c.get("rest", []):
        if rest.get("mode") not in ("client", "server"):
            problems.append(f"rest mode {rest.get('mode')!r}")
        for r in rest.get("resource", []):
            for i in r.get("interaction", []):
                if i.get("code") not in TYPE_INTERACTIONS:
                    problems.append(f"{r['type']}: interaction {i.get('code')!r}")
            for p in r.get("searchParam", []):
                if p.get("type") not in SEARCH_PARAM_TYPES:
                    problems.append(f"{r['type']}: searchParam type {p.get('type')!r}")
    return problems


def check_bundle(b, questionnaires):
    problems = []
    if b.get("type") not in BUNDLE_TYPES:
        problems.append(f"Bundle type {b.get('type')!r}")
    if "total" in b and b.get("type") not in ("searchset", "history"):
        problems.append("bdl-1: total only in a search or history")
    urls = [e.get("fullUrl") for e in b.get("entry", [])]
    if len(urls) != len(set(urls)):
        problems.append("bdl-7: fullUrl is not unique")
    for link in b.get("link", []):
        if not link.get("relation") or not link.get("url"):
            problems.append(f"link {link} needs relation and url")
    for e in b.get("entry", []):
        r = e.get("resource", {})
        if not e.get("fullUrl", "").endswith(f"/{r.get('resourceType')}/{r.get('id')}"):
            problems.append(f"entry fullUrl {e.get('fullUrl')!r} is not the resource's")
        if e.get("search", {}).get("mode") not in SEARCH_MODES:
            problems.append(f"entry search mode {e.get('search')}")
        where = f"entry {r.get('id')}"
        if r.get("resourceType") == "QuestionnaireResponse":
            problems += [f"{where}: {p}" for p in check_response(r, questionnaires)]
        elif r.get("resourceType") == "Questionnaire":
            problems += [f"{where}: {p}" for p in check_questionnaire(r)]
        else:
            problems.append(f"{where}: unexpected {r.get('resourceType')!r}")
    return problems


def main(root):
    root = pathlib.Path(root)
    passed, failed = 0, 0
    questionnaires = {}

    def report(path, problems):
        nonlocal passed, failed
        if problems:
            failed += 1
            for p in problems:
                print(f"{path.name}: {p}")
        else:
            passed += 1

    for path in sorted((root / "questionnaires").glob("*.json")):
        data = json.loads(path.read_text())
        try:
            Questionnaire.model_validate(data)
        except Exception as e:  # pydantic's ValidationError: report, do not stop
            report(path, [f"fhir.resources: {e}"])
            continue
        report(path, check_questionnaire(data))
        questionnaires[f"{data['url']}|{data['version']}"] = data
    for path in sorted((root / "responses").glob("*.json")):
        data = json.loads(path.read_text())
        try:
            QuestionnaireResponse.model_validate(data)
        except Exception as e:
            report(path, [f"fhir.resources: {e}"])
            continue
        report(path, check_response(data, questionnaires))
    for path in sorted((root / "endpoint").glob("*.json")):
        data = json.loads(path.read_text())
        model = ENDPOINT_MODELS.get(data.get("resourceType"))
        if model is None:
            report(path, [f"unexpected resourceType {data.get('resourceType')!r}"])
            continue
        try:
            model.model_validate(data)
        except Exception as e:
            report(path, [f"fhir.resources: {e}"])
            continue
        if model is Bundle:
            report(path, check_bundle(data, questionnaires))
        elif model is CapabilityStatement:
            report(path, check_capabilities(data))
        else:
            report(path, check_outcome(data))
    print(f"fhir: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
