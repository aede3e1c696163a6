package api

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// conversationFields reads the body fields of a new conversation shared by POST /requests and the
// first message.
type conversationFields struct {
	departmentID, sourcePage, userAgent, subject, priority, language, email, senderFullname *string
	channel                                                                                 *tiledesk.Channel
	attributes, location                                                                    map[string]any
	participants, followers                                                                 []string
	preflight                                                                               *bool
}

func readConversationFields(b *body) conversationFields {
	f := conversationFields{departmentID: b.str("departmentid"),
		sourcePage: b.strOf("sourcePage", tiledesk.MaxSourcePageBytes), userAgent: b.strOf("userAgent", tiledesk.MaxUserAgentBytes),
		subject: b.strOf("subject", tiledesk.MaxSubjectBytes), priority: b.oneOf("priority", "low", "medium", "high", "urgent"),
		language: b.strOf("language", tiledesk.MaxLanguageBytes), email: b.str("email"),
		senderFullname: b.strOf("senderFullname", tiledesk.MaxFullnameBytes), attributes: b.boundedObject("attributes"),
		location: b.boundedObject("location"), participants: b.strs("participants"), followers: b.strs("followers"),
		preflight: b.boolean("preflight")}
	if f.senderFullname == nil {
		f.senderFullname = b.strOf("sender_fullname", tiledesk.MaxFullnameBytes)
	}
	if len(f.followers) > tiledesk.MaxFollowers {
		b.fail("followers", fmt.Sprintf("a conversation holds at most %d followers", tiledesk.MaxFollowers), nil)
	} else if slices.ContainsFunc(f.followers, func(id string) bool { return !tiledesk.IsID(id) }) {
		b.fail("followers", "followers are project user ids", nil)
	}
	if f.departmentID != nil && *f.departmentID != "" && !tiledesk.IsID(*f.departmentID) {
		b.fail("departmentid", "must be a department id", *f.departmentID)
	}
	if f.email != nil && *f.email != "" && !validEmail(*f.email) {
		b.fail("email", "must be a valid email address", *f.email)
	}
	if ch := b.object("channel"); ch != nil {
		name, _ := ch["name"].(string)
		if name == "" {
			b.fail("channel", `must be {"name": string}`, nil)
		} else if b.channelNameFits("channel", name) {
			f.channel = &tiledesk.Channel{Name: name}
		}
	}
	return f
}

// newConversation builds the NewRequest of a conversation for requester rq.
func (s *Server) newConversation(c *call, rid, firstText string, rq *requesterInfo, f conversationFields) (*tiledesk.NewRequest, error) {
	req := &tiledesk.Request{ID: tiledesk.NewID(), ProjectID: c.project.ID, RequestID: rid, FirstText: firstText,
		Priority: "medium", Channel: tiledesk.Channel{Name: "chat21"}, SmartAssignment: true, RequesterID: rq.member.ID,
		CreatedBy: c.caller.id, Attributes: f.attributes, Location: f.location, Followers: []string{}}
	if f.channel != nil {
		req.Channel = *f.channel
	}
	req.ChannelOutbound = req.Channel
	if req.Channel.Name == "form" || req.Channel.Name == "email" {
		req.SmartAssignment = false
	}
	set(&req.Subject, f.subject)
	set(&req.SourcePage, f.sourcePage)
	set(&req.UserAgent, f.userAgent)
	set(&req.Language, f.language)
	set(&req.Priority, f.priority)
	set(&req.Preflight, f.preflight)
	req.Draft = strings.Contains(req.SourcePage, "td_draft=true")
	if f.followers != nil { // membership ids, compared in lower case as the follower routes keep them
		req.Followers = make([]string, len(f.followers))
		for i, id := range f.followers {
			req.Followers[i] = strings.ToLower(id)
		}
	}
	lead := tiledesk.LeadRef{LeadID: rq.leadID, Fullname: rq.fullname, Email: rq.email}
	if f.senderFullname != nil && strings.TrimSpace(*f.senderFullname) != "" {
		lead.Fullname = strings.TrimSpace(*f.senderFullname)
	}
	if f.email != nil && *f.email != "" {
		lead.Email = *f.email
	}
	in := &tiledesk.NewRequest{Request: req, Lead: lead, Participants: f.participants}
	if f.departmentID != nil {
		in.DepartmentID = strings.ToLower(*f.departmentID)
	}
	return in, nil
}
