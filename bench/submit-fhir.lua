-- wrk script: the answers of submit-patient.lua as a FHIR QuestionnaireResponse, posted to
-- /fhir/r4/QuestionnaireResponse of a server on 127.0.0.1:18084 (bench/fhir-overhead.sh).
local b = "http://127.0.0.1:18084/fhir/r4"
local codes = b .. "/CodeSystem/demo-clinic.patient-enrollment.answers"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/fhir+json"
wrk.body = '{"resourceType":"QuestionnaireResponse","status":"completed",'
  .. '"questionnaire":"' .. b .. '/Questionnaire/demo-clinic.patient-enrollment|1","item":['
  .. '{"linkId":"aware","answer":[{"valueBoolean":true}]},'
  .. '{"linkId":"tried","answer":[{"valueBoolean":true}]},'
  .. '{"linkId":"enrolled","answer":[{"valueBoolean":false}]},'
  .. '{"linkId":"what_happened","answer":[{"valueCoding":{"system":"' .. codes .. '","code":"error"}},'
  .. '{"valueCoding":{"system":"' .. codes .. '","code":"locked_out"}}]},'
  .. '{"linkId":"contact_ok","answer":[{"valueBoolean":true}]},'
  .. '{"linkId":"contact_phone","answer":[{"valueString":"555-0100"}]},'
  .. '{"linkId":"comments","answer":[{"valueString":"The website said error and then I was locked out"}]}]}'
