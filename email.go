package tiledesk

// EmailKey is how the server compares email addresses: ASCII letters folded to lower case, every
// other character kept as it is. Unicode case folding is left out on purpose: strings.ToLower turns
// the Kelvin sign (U+212A) into 'k' and PostgreSQL's lower() folds more than SQLite's, so with it one
// spelling could reach another person's account, or the two engines could disagree. Accounts take
// only ASCII addresses (the API refuses others); leads keep what visitors typed, compared by this key.
func EmailKey(email string) string {
	for i := 0; i < len(email); i++ {
		if c := email[i]; 'A' <= c && c <= 'Z' {
			b := []byte(email)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + ('a' - 'A')
				}
			}
			return string(b)
		}
	}
	return email
}
