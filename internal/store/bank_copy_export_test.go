package store

// SetBankCopyMerge sets how many copied rows an ImportTx merges at a time
// and returns a function restoring the previous value (tests).
func SetBankCopyMerge(n int) func() {
	old := bankCopyMerge
	bankCopyMerge = n
	return func() { bankCopyMerge = old }
}
