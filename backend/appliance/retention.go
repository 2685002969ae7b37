package appliance

import "time"

// purgeEvery is how often the background job applies the retention setting (besides once at
// start): docs/OPERATIONS.md promises hourly. A variable so that a test can run the job's
// schedule in seconds instead of hours; nothing else changes it.
var purgeEvery = time.Hour
