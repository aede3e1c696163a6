// Package seed makes realistic, deterministic data sets for benchmarks and torture tests: leads with
// accented names, unique emails, a few tags and small attribute maps, as a support team collects them.
package seed

import (
	"fmt"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// FirstNames and LastNames make the leads' names; search scenarios draw their queries from them.
var (
	FirstNames = []string{"Mario", "Giulia", "Andrea", "Francesca", "Luca", "Chiara", "Marco", "Sofia", "Matteo",
		"Aurora", "Lorenzo", "Ginevra", "Alessandro", "Beatrice", "Davide", "Nicolò", "José", "Zoë", "François",
		"Ümit", "Ana", "Pedro", "Hanna", "Jürgen", "Ingrid", "Kenji", "Amélie", "Søren", "Élodie", "Tomás",
		"Olivia", "Noah", "Emma", "Liam", "Mia", "Lucas", "Léa", "Hugo", "Anja", "Piotr"}
	LastNames = []string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
		"Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo",
		"Lombardi", "Moretti", "García", "Fernández", "Müller", "Schmidt", "Dubois", "Lefèvre", "Nowak",
		"Kowalski", "Johansson", "Nielsen", "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Tanaka",
		"Sato", "O'Brien", "Álvarez", "Çelik"}
	domains = []string{"example.com", "mail.example", "corp.example", "shop.example", "example.it"}
)

// Fullname is lead i's name.
func Fullname(i int) string {
	return FirstNames[i%len(FirstNames)] + " " + LastNames[(i/len(FirstNames))%len(LastNames)]
}

// Email is lead i's email, unique per i.
func Email(i int) string {
	words := tiledesk.SearchTerms(Fullname(i))
	return fmt.Sprintf("%s.%d@%s", strings.Join(words, "."), i, domains[i%len(domains)])
}

// Leads returns leads first .. first+n-1 of a project, created one millisecond apart from base on,
// so that ids, created and updated times all increase with i. Every 10th lead is tagged "vip", every
// 7th "newsletter"; none is deleted.
func Leads(projectID, createdBy string, first, n int, base time.Time) []*tiledesk.Lead {
	out := make([]*tiledesk.Lead, n)
	for k := range n {
		i := first + k
		at := tiledesk.Millis(base.Add(time.Duration(i) * time.Millisecond))
		tags := []string{}
		if i%10 == 0 {
			tags = append(tags, "vip")
		}
		if i%7 == 0 {
			tags = append(tags, "newsletter")
		}
		out[k] = &tiledesk.Lead{ID: tiledesk.NewIDAt(at), ProjectID: projectID, LeadID: fmt.Sprintf("seed-%d", i),
			Fullname: Fullname(i), Email: Email(i), Phone: fmt.Sprintf("+39 06 %07d", i), Company: LastNames[i%len(LastNames)] + " S.r.l.",
			City: []string{"Roma", "Milano", "Torino", "Napoli", "Bari"}[i%5], Country: "IT", Tags: tags,
			Attributes: map[string]any{"source": []string{"web", "widget", "email", "api"}[i%4], "visits": i % 50},
			Status:     tiledesk.LeadActive, CreatedBy: createdBy, CreatedAt: at, UpdatedAt: at}
	}
	return out
}

// SearchQuery is the i-th full-text query of the benchmarks: a first-name prefix and a surname
// prefix, as a person types them ("giu ros").
func SearchQuery(i int) string {
	first := []rune(FirstNames[i%len(FirstNames)])
	last := []rune(LastNames[(i/len(FirstNames))%len(LastNames)])
	return string(first[:3]) + " " + string(last[:min(4, len(last))])
}
