package watch

import "time"

// SetRecordTimeout sets how long a delivery's record may take to write, until restore.
func SetRecordTimeout(d time.Duration) (restore func()) {
	old := recordTimeout
	recordTimeout = d
	return func() { recordTimeout = old }
}
