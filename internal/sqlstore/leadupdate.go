package sqlstore

import (
	"slices"

	"github.com/tiledesk-go/tiledesk"
)

// applyLeadUpdate applies upd to l as read in the update's transaction. Merges and added tags are
// held to the bounds here, on their result, where the stored value is known: many small merges
// must not grow a lead past what one write may store.
func applyLeadUpdate(l *tiledesk.Lead, upd tiledesk.LeadUpdate) error {
	set(&l.Fullname, upd.Fullname)
	set(&l.Email, upd.Email)
	set(&l.Phone, upd.Phone)
	set(&l.Company, upd.Company)
	set(&l.Note, upd.Note)
	set(&l.StreetAddress, upd.StreetAddress)
	set(&l.City, upd.City)
	set(&l.Region, upd.Region)
	set(&l.Zipcode, upd.Zipcode)
	set(&l.Country, upd.Country)
	set(&l.Status, upd.Status)
	if upd.Attributes != nil {
		l.Attributes = upd.Attributes
	}
	var err error
	if upd.MergeAttributes != nil {
		if l.Attributes, err = tiledesk.MergeJSON("attributes", l.Attributes, upd.MergeAttributes, tiledesk.MaxJSONBytes); err != nil {
			return err
		}
	}
	if upd.MergeProperties != nil {
		if l.Properties, err = tiledesk.MergeJSON("properties", l.Properties, upd.MergeProperties, tiledesk.MaxJSONBytes); err != nil {
			return err
		}
	}
	if upd.Tags != nil {
		l.Tags = dedupe(upd.Tags)
	}
	if upd.AddTags != nil {
		l.Tags = dedupe(append(slices.Clone(l.Tags), upd.AddTags...))
		if len(l.Tags) > tiledesk.MaxTags {
			return tiledesk.Invalid("tags", "a lead holds at most %d tags", tiledesk.MaxTags)
		}
	}
	if upd.RemoveTag != nil {
		l.Tags = slices.DeleteFunc(slices.Clone(l.Tags), func(t string) bool { return t == *upd.RemoveTag })
	}
	if rn := upd.RenameTag; rn != nil {
		tags := slices.Clone(l.Tags)
		for i, t := range tags {
			if t == rn[0] {
				tags[i] = rn[1]
			}
		}
		l.Tags = dedupe(tags)
	}
	return nil
}

func dedupe(tags []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, t := range tags {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
