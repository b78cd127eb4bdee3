-- wrk script: a typical patient who never tried to sign up (tags, no follow-ups).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"answers":{"aware":"no","tried":"no","why_not":["didnt_know","no_device"],"contact_ok":"no","comments":"I do not have a computer at home"}}'
