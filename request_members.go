package tiledesk

import (
	"slices"
	"strings"
)

// The members a conversation names: its participants (agents' user ids and bots) and its followers
// (agent-side memberships). Each one given is checked when the change is built; how many a
// conversation holds is checked where the stored list is known, in the store's transaction
// (CheckRequestGrowth).

// MemberLookup finds a membership of the conversation's project, any status (ENOTFOUND when none):
// by user id for participants, by membership id for followers.
type MemberLookup func(id string) (*ProjectUser, error)

// isActiveAgent reports whether pu is an active agent-side membership.
func isActiveAgent(pu *ProjectUser) bool { return pu.IsActive() && pu.RoleType == RoleTypeAgent }

// CheckParticipants refuses, naming field, participants that are neither bots nor active agents of
// the project, and more of them than a conversation holds before looking any up.
func CheckParticipants(field string, ids []string, byUserID MemberLookup) error {
	if len(ids) > MaxParticipants {
		return Invalid(field, "a conversation holds at most %d participants", MaxParticipants)
	}
	for _, id := range ids {
		if len(id) > MaxParticipantBytes {
			return Invalid(field, "a participant is at most %d bytes", MaxParticipantBytes)
		}
		if strings.HasPrefix(id, BotPrefix) && len(id) > len(BotPrefix) {
			continue
		}
		if !IsID(id) {
			return Invalid(field, "participants are agents' user ids or bot_<id>")
		}
		pu, err := byUserID(id)
		if ErrorCode(err) == ENOTFOUND || err == nil && !isActiveAgent(pu) {
			return Invalid(field, "%s is not an active agent of the project", id)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// SetRequestParticipants replaces a conversation's participants (CheckParticipants, field
// participants), which assigns it or puts it back in the pool.
func SetRequestParticipants(ids []string, byUserID MemberLookup) (RequestChange, error) {
	if err := CheckParticipants("participants", ids, byUserID); err != nil {
		return nil, err
	}
	return func(r *Request, env RequestEnv) ([]string, error) {
		r.SetParticipants(ids, env.Now())
		return []string{EventRequestParticipants}, nil
	}, nil
}

// AddRequestParticipant adds one participant (CheckParticipants, field member).
func AddRequestParticipant(id string, byUserID MemberLookup) (RequestChange, error) {
	if err := CheckParticipants("member", []string{id}, byUserID); err != nil {
		return nil, err
	}
	return func(r *Request, env RequestEnv) ([]string, error) {
		r.AddParticipant(id, env.Now())
		return []string{EventRequestParticipants}, nil
	}, nil
}

// RemoveRequestParticipant removes one participant, which must be there.
func RemoveRequestParticipant(id string) RequestChange {
	return func(r *Request, env RequestEnv) ([]string, error) {
		if !r.RemoveParticipant(id, env.Now()) {
			return nil, &Error{Code: ECONFLICT, Rule: RuleParticipantPresent,
				Message: "Unable to remove the participant " + id + " from the request " + r.RequestID}
		}
		return []string{EventRequestParticipants}, nil
	}
}

// CheckFollowers refuses, naming field, followers that are not active agent-side memberships
// (membership ids), and more of them than a conversation holds before looking any up.
func CheckFollowers(field string, ids []string, byID MemberLookup) error {
	if len(ids) > MaxFollowers {
		return Invalid("followers", "a conversation holds at most %d followers", MaxFollowers)
	}
	for _, id := range ids {
		if !IsID(id) {
			return Invalid(field, "followers are project user ids")
		}
		pu, err := byID(strings.ToLower(id))
		if ErrorCode(err) == ENOTFOUND || err == nil && !isActiveAgent(pu) {
			return Invalid(field, "%s is not an active teammate of the project", id)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// lowerAll returns ids in lower case: membership ids are compared so.
func lowerAll(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strings.ToLower(id)
	}
	return out
}

// SetRequestFollowers replaces a conversation's followers (CheckFollowers), without duplicates.
func SetRequestFollowers(ids []string, byID MemberLookup) (RequestChange, error) {
	ids = lowerAll(ids)
	if err := CheckFollowers("member", ids, byID); err != nil {
		return nil, err
	}
	followers := []string{}
	for _, id := range ids {
		if !slices.Contains(followers, id) {
			followers = append(followers, id)
		}
	}
	return func(r *Request, _ RequestEnv) ([]string, error) {
		r.Followers = slices.Clone(followers)
		return []string{EventRequestFollowers}, nil
	}, nil
}

// AddRequestFollower adds one follower (CheckFollowers).
func AddRequestFollower(id string, byID MemberLookup) (RequestChange, error) {
	id = strings.ToLower(id)
	if err := CheckFollowers("member", []string{id}, byID); err != nil {
		return nil, err
	}
	return func(r *Request, _ RequestEnv) ([]string, error) {
		if !slices.Contains(r.Followers, id) {
			r.Followers = append(slices.Clone(r.Followers), id)
		}
		return []string{EventRequestFollowers}, nil
	}, nil
}

// RemoveRequestFollower removes one follower, if it is there.
func RemoveRequestFollower(id string) RequestChange {
	id = strings.ToLower(id)
	return func(r *Request, _ RequestEnv) ([]string, error) {
		r.Followers = slices.DeleteFunc(slices.Clone(r.Followers), func(f string) bool { return f == id })
		return []string{EventRequestFollowers}, nil
	}
}

// ReplaceRequestBot hands a conversation to a bot: the bots among its participants leave, the bot
// joins, the agents stay.
func ReplaceRequestBot(botID string) RequestChange {
	return func(r *Request, env RequestEnv) ([]string, error) {
		parts := make([]string, 0, len(r.Participants)+1)
		for _, p := range r.Participants {
			if !strings.HasPrefix(p, BotPrefix) {
				parts = append(parts, p)
			}
		}
		r.SetParticipants(append(parts, BotPrefix+botID), env.Now())
		return []string{EventRequestParticipants}, nil
	}
}
