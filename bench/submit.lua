-- wrk script: durable JSON submissions of the demo provider survey (no submission id).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"answers":{"role":"physician","offer_to":"some","when_best":"check_out","who_should":"nurse_ma","help_available":"no","patient_barriers":["technical","overload"],"concerns":["workload"],"comments":"Patients tell me the code never arrives"}}'
