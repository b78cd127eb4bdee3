-- wrk script: the three demo workloads in turn — a typical patient (tags only), a provider
-- (a task) and a patient who failed to enrol (a task and a webhook). Run against the server's
-- root URL (the paths are set here).
local base = "/api/v1/sites/demo-clinic/surveys/"
local requests = {
  { base .. "patient-enrollment/responses", '{"answers":{"aware":"no","tried":"no","why_not":["didnt_know","no_device"],"contact_ok":"no","comments":"I do not have a computer at home"}}' },
  { base .. "provider-enrollment/responses", '{"answers":{"role":"physician","offer_to":"some","when_best":"check_out","who_should":"nurse_ma","help_available":"no","patient_barriers":["technical","overload"],"concerns":["workload"],"comments":"Patients tell me the code never arrives"}}' },
  { base .. "patient-enrollment/responses", '{"answers":{"aware":"yes","tried":"yes","enrolled":"no","what_happened":["error","locked_out"],"contact_ok":"yes","contact_phone":"555-0100","comments":"The website said error and then I was locked out"}}' },
}
local n = 0
request = function()
  n = n % #requests + 1
  return wrk.format("POST", requests[n][1], { ["Content-Type"] = "application/json" }, requests[n][2])
end
