-- wrk script: durable JSON submissions of the demo patient survey (free text included).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"answers":{"aware":"yes","tried":"yes","enrolled":"no","what_happened":["error","locked_out"],"contact_ok":"yes","contact_phone":"555-0100","comments":"The website said error and then I was locked out"}}'
