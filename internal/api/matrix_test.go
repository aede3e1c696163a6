package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

// The tenancy and role matrix: every route the server registers (Server.RouteTable) is called with every
// kind of credential, and the answer is held to the policy written below. The policy is written by
// hand on purpose, apart from routes.go: a route registered with a weaker access than intended is
// caught, and a route added without a policy entry fails the test until someone decides who may call it.

// policy is who may call a route: "public", "authed" (any valid credential), "registered" (a
// registered user, not a guest) or the least project role. body builds the request body for a caller
// (nil: no body); a body must be valid for an allowed caller, so that allowed calls reach the handler.
type policy struct {
	allow string
	// requester: the guest who started the fixture conversation is allowed too (visitors reach
	// their own conversations; the other guest of the matrix must not).
	requester bool
	// createsInB: through project B the path's id names nothing yet, and the call creates it there
	// (a first message creates its conversation), so B's owner may succeed, with nothing of A.
	createsInB bool
	// byValue: the path's other parameter names no object of a project (a language), so project B
	// answers its own for it.
	byValue bool
	// bots: the project's bots are admitted too (the original's "+bot"), with what an admin may do.
	bots bool
	body func(w *world, who *credential) any
}

var matrix = map[string]policy{
	"GET /{$}":          {allow: "public"},
	"POST /auth/signup": {allow: "public", body: func(w *world, _ *credential) any { return w.newSignup() }},
	"POST /auth/signin": {allow: "public", body: func(w *world, _ *credential) any {
		return map[string]string{"email": w.signer.email, "password": w.signer.password}
	}},
	"POST /auth/signinAnonymously":          {allow: "public", body: func(w *world, _ *credential) any { return map[string]string{"id_project": w.pidA} }},
	"POST /auth/signinWithCustomToken":      {allow: "authed"}, // the credential is the token it exchanges
	"PUT /auth/verifyemail/{userid}/{code}": {allow: "public"},
	"POST /auth/verifyemail": {allow: "public", body: func(w *world, _ *credential) any {
		return map[string]string{"token": w.verifyToken}
	}},
	"PUT /auth/requestresetpsw": {allow: "public", body: func(w *world, _ *credential) any {
		return map[string]string{"email": w.signer.email}
	}},
	"GET /auth/checkpswresetkey/{token}":              {allow: "public"},
	"PUT /auth/resetpsw/{token}":                      {allow: "public", body: fixed(map[string]string{"password": "N3w-passw0rd"})},
	"GET /auth/pendinginvitationsnoauth/{token}":      {allow: "public"},
	"GET /users/resendverifyemail":                    {allow: "registered"},
	"GET /{pid}/pendinginvitations":                   {allow: tiledesk.RoleAdmin},
	"GET /{pid}/pendinginvitations/{id}":              {allow: tiledesk.RoleAdmin},
	"DELETE /{pid}/pendinginvitations/{id}":           {allow: tiledesk.RoleAdmin},
	"GET /{pid}/pendinginvitations/resendinvite/{id}": {allow: tiledesk.RoleAdmin},
	"GET /public/requests/{rid}/messages":             {allow: "public"},
	"GET /public/requests/{rid}/{file}":               {allow: "public"},
	"GET /testauth":                                   {bots: true, allow: "authed"},
	"POST /chat21/native/auth/createCustomToken":      {allow: "authed"}, // not bots: they answer through the API
	// The chat clients' lists: any credential, each reading its own inbox only (another's is 404,
	// which the matrix's fixed user id makes of every call; TestChat21VisitorAndAgent reads them).
	"GET /chatapi/api/{app}/{uid}/{list}":                      {allow: "authed", bots: true},
	"GET /chatapi/api/{app}/{uid}/{list}/{cw}":                 {allow: "authed", bots: true},
	"GET /chatapi/api/{app}/{uid}/conversations/{cw}/messages": {allow: "authed", bots: true},
	"POST /chatapi/api/{app}/{uid}/{list}/{cw}":                {allow: "authed", bots: true, body: fixed(map[string]string{"platform": "ios"})},
	// A support group's members are its conversation's participants: the participants routes' rule.
	"PUT /chatapi/api/{app}/groups/{gid}/members": {bots: true, allow: tiledesk.RoleAgent, body: func(w *world, _ *credential) any {
		return map[string]any{"members": map[string]int{w.agentA.id: 1, w.adminA.id: 1}}
	}},
	"DELETE /chatapi/api/{app}/groups/{gid}/members/{mid}": {bots: true, allow: tiledesk.RoleAgent},
	// Chat groups are among registered teammates: any registered user makes one in a project of
	// its own; the matrix's group id is a support group's, which is no chat group (404 to all).
	// TestChat21Groups and TestChat21GroupRules hold a chat group's own rules.
	"POST /chatapi/api/{app}/groups":                 {allow: "registered", body: fixed(map[string]any{"group_name": "Matrix", "group_members": map[string]int{}})},
	"PUT /chatapi/api/{app}/groups/{gid}":            {allow: "registered", body: fixed(map[string]string{"group_name": "Renamed"})},
	"PUT /chatapi/api/{app}/groups/{gid}/attributes": {allow: "registered", body: fixed(map[string]any{"attributes": map[string]any{"k": "v"}})},
	"GET /users":    {allow: "authed"},
	"PUT /users":    {allow: "registered", body: fixed(map[string]string{"lastname": "Changed"})},
	"DELETE /users": {allow: "registered"}, // owners of a project they alone own get 409
	"PUT /users/changepsw": {allow: "registered", body: func(_ *world, who *credential) any {
		return map[string]string{"oldpsw": who.password, "newpsw": who.password + "-new"}
	}},
	"POST /projects":                           {allow: "registered", body: fixed(map[string]string{"name": "Another project"})},
	"GET /projects":                            {allow: "registered"},
	"GET /projects/{pid}":                      {allow: tiledesk.RoleAgent},
	"PUT /projects/{pid}":                      {allow: tiledesk.RoleAdmin, body: fixed(map[string]string{"name": "Renamed"})},
	"DELETE /projects/{pid}":                   {allow: tiledesk.RoleOwner},
	"PATCH /projects/{pid}/attributes":         {allow: tiledesk.RoleAdmin, body: fixed(map[string]string{"plan": "pro"})},
	"GET /projects/{pid}/isopen":               {allow: "public"},
	"GET /projects/{pid}/users/availables":     {allow: "public"},
	"GET /{pid}/project_users":                 {bots: true, allow: tiledesk.RoleAgent},
	"GET /{pid}/project_users/me":              {allow: tiledesk.RoleAgent},
	"GET /{pid}/project_users/{id}":            {allow: tiledesk.RoleAgent},
	"GET /{pid}/project_users/users/{user_id}": {allow: tiledesk.RoleAgent},
	"POST /{pid}/project_users/invite": {allow: tiledesk.RoleAdmin, body: func(w *world, _ *credential) any {
		return map[string]string{"email": w.fresh("invitee") + "@example.com", "role": "agent"}
	}},
	"PUT /{pid}/project_users":                   {allow: tiledesk.RoleAgent, body: fixed(map[string]any{"user_available": false})},
	"PUT /{pid}/project_users/{id}":              {allow: tiledesk.RoleAdmin, body: fixed(map[string]any{"user_available": false})},
	"DELETE /{pid}/project_users/{id}":           {allow: tiledesk.RoleAdmin},
	"DELETE /{pid}/project_users/me":             {allow: tiledesk.RoleTeammate}, // leaving; the last owner gets 409
	"GET /{pid}/leads":                           {bots: true, allow: tiledesk.RoleAgent},
	"GET /{pid}/leads/csv":                       {bots: true, allow: tiledesk.RoleAgent},
	"GET /{pid}/leads/{id}":                      {bots: true, allow: tiledesk.RoleAgent},
	"POST /{pid}/leads":                          {bots: true, allow: tiledesk.RoleAgent, body: fixed(map[string]string{"fullname": "New lead"})},
	"PUT /{pid}/leads/{id}":                      {bots: true, allow: tiledesk.RoleAgent, body: fixed(map[string]string{"company": "ACME"})},
	"PATCH /{pid}/leads/{id}/attributes":         {bots: true, allow: tiledesk.RoleAgent, body: fixed(map[string]any{"a": 1})},
	"POST /{pid}/leads/{id}/properties":          {bots: true, allow: tiledesk.RoleAgent, body: fixed(map[string]any{"p": 1})},
	"PATCH /{pid}/leads/{id}/properties":         {bots: true, allow: tiledesk.RoleAgent, body: fixed(map[string]any{"p": 2})},
	"PUT /{pid}/leads/{id}/tag":                  {bots: true, allow: tiledesk.RoleAgent, body: fixed([]string{"new"})},
	"DELETE /{pid}/leads/{id}/tag/{tag}":         {bots: true, allow: tiledesk.RoleAgent},
	"DELETE /{pid}/leads/{id}":                   {bots: true, allow: tiledesk.RoleAgent},
	"DELETE /{pid}/leads/{id}/physical":          {allow: tiledesk.RoleOwner}, // agent route, owner checked inside
	"POST /{pid}/keys/generate":                  {allow: tiledesk.RoleAdmin},
	"POST /{pid}/jwt/decode":                     {allow: "public"},
	"POST /{pid}/messages":                       {allow: tiledesk.RoleAgent, body: fixed(map[string]string{"recipient": "6650a1e9c2b7e2a1d4f00009", "recipientFullname": "Bob", "text": "hi"})},
	"GET /{pid}/messages":                        {allow: tiledesk.RoleOwner},
	"GET /{pid}/labels":                          {allow: "public"},
	"GET /{pid}/labels/default":                  {allow: "public"},
	"GET /{pid}/labels/default/{lang}":           {allow: "public", byValue: true},
	"GET /{pid}/labels/{lang}":                   {allow: "public", byValue: true},
	"POST /{pid}/labels/default/clone":           {allow: tiledesk.RoleAdmin, body: fixed(map[string]string{"lang": "IT"})},
	"POST /{pid}/labels":                         {allow: tiledesk.RoleAdmin, body: fixed(map[string]any{"lang": "EN", "data": map[string]string{"WELCOME_TITLE": "Hi"}})},
	"PATCH /{pid}/labels/{lang}/default":         {allow: tiledesk.RoleAdmin},
	"DELETE /{pid}/labels":                       {allow: tiledesk.RoleAdmin},
	"DELETE /{pid}/labels/{lang}":                {allow: tiledesk.RoleAdmin},
	"GET /{pid}/faq_kb":                          {bots: true, allow: tiledesk.RoleAgent},
	"POST /{pid}/faq_kb":                         {allow: tiledesk.RoleAdmin, body: fixed(map[string]string{"name": "Matrix bot"})},
	"GET /{pid}/faq_kb/{id}":                     {bots: true, allow: tiledesk.RoleAdmin},
	"PUT /{pid}/faq_kb/{id}":                     {bots: true, allow: tiledesk.RoleAdmin, body: fixed(map[string]string{"name": "Renamed bot"})},
	"PATCH /{pid}/faq_kb/{id}/attributes":        {bots: true, allow: tiledesk.RoleAdmin, body: fixed(map[string]any{"a": 1})},
	"PUT /{pid}/faq_kb/{id}/language/{language}": {bots: true, allow: tiledesk.RoleAdmin},
	"GET /{pid}/faq_kb/exportjson/{id}":          {allow: tiledesk.RoleAdmin},
	"POST /{pid}/faq_kb/importjson/{id}":         {allow: tiledesk.RoleAdmin, body: fixed(map[string]any{"name": "Imported", "intents": []any{}})},
	"POST /{pid}/faq_kb/fork/{id}":               {allow: tiledesk.RoleAdmin},
	"GET /{pid}/faq_kb/{id}/{action}":            {bots: true, allow: tiledesk.RoleAdmin},
	"POST /{pid}/faq_kb/{id}/jwt/rotate":         {allow: tiledesk.RoleAdmin},
	"DELETE /{pid}/faq_kb/{id}":                  {allow: tiledesk.RoleAdmin},
	"GET /{pid}/bots":                            {bots: true, allow: tiledesk.RoleAgent},
	"POST /{pid}/bots":                           {allow: tiledesk.RoleAdmin, body: fixed(map[string]string{"name": "Matrix bot"})},
	"GET /{pid}/bots/{id}":                       {bots: true, allow: tiledesk.RoleAdmin},
	"PUT /{pid}/bots/{id}":                       {bots: true, allow: tiledesk.RoleAdmin, body: fixed(map[string]string{"name": "Renamed bot"})},
	"PATCH /{pid}/bots/{id}/attributes":          {bots: true, allow: tiledesk.RoleAdmin, body: fixed(map[string]any{"a": 1})},
	"PUT /{pid}/bots/{id}/language/{language}":   {bots: true, allow: tiledesk.RoleAdmin},
	"GET /{pid}/bots/exportjson/{id}":            {allow: tiledesk.RoleAdmin},
	"POST /{pid}/bots/importjson/{id}":           {allow: tiledesk.RoleAdmin, body: fixed(map[string]any{"name": "Imported", "intents": []any{}})},
	"POST /{pid}/bots/fork/{id}":                 {allow: tiledesk.RoleAdmin},
	"GET /{pid}/bots/{id}/{action}":              {bots: true, allow: tiledesk.RoleAdmin},
	"POST /{pid}/bots/{id}/jwt/rotate":           {allow: tiledesk.RoleAdmin},
	"DELETE /{pid}/bots/{id}":                    {allow: tiledesk.RoleAdmin},
	"GET /{pid}/faq":                             {bots: true, allow: tiledesk.RoleAgent},
	"POST /{pid}/faq": {bots: true, allow: tiledesk.RoleAdmin, body: func(w *world, _ *credential) any {
		return map[string]string{"id_faq_kb": w.botA, "question": "How?", "answer": "So."}
	}},
	"GET /{pid}/faq/{id}":              {bots: true, allow: tiledesk.RoleAdmin},
	"PUT /{pid}/faq/{id}":              {bots: true, allow: tiledesk.RoleAdmin, body: fixed(map[string]string{"answer": "Changed"})},
	"PATCH /{pid}/faq/{id}/attributes": {bots: true, allow: tiledesk.RoleAdmin, body: fixed(map[string]any{"a": 1})},
	"DELETE /{pid}/faq/{id}":           {bots: true, allow: tiledesk.RoleAdmin},
	"GET /{pid}/intents":               {bots: true, allow: tiledesk.RoleAgent},
	"POST /{pid}/intents": {bots: true, allow: tiledesk.RoleAdmin, body: func(w *world, _ *credential) any {
		return map[string]string{"id_faq_kb": w.botA, "question": "How?", "answer": "So."}
	}},
	"GET /{pid}/intents/{id}":                    {bots: true, allow: tiledesk.RoleAdmin},
	"PUT /{pid}/intents/{id}":                    {bots: true, allow: tiledesk.RoleAdmin, body: fixed(map[string]string{"answer": "Changed"})},
	"PATCH /{pid}/intents/{id}/attributes":       {bots: true, allow: tiledesk.RoleAdmin, body: fixed(map[string]any{"a": 1})},
	"DELETE /{pid}/intents/{id}":                 {bots: true, allow: tiledesk.RoleAdmin},
	"GET /{pid}/widgets":                         {allow: "public"},
	"GET /{pid}/publicanalytics/waiting/current": {allow: "public"},
	"GET /{pid}/departments":                     {allow: "public"},
	"GET /{pid}/departments/allstatus":           {bots: true, allow: tiledesk.RoleAgent},
	"GET /{pid}/departments/{id}":                {allow: "public"},
	"GET /{pid}/departments/{id}/operators":      {bots: true, allow: tiledesk.RoleAgent},
	"POST /{pid}/departments":                    {allow: tiledesk.RoleAdmin, body: fixed(map[string]string{"name": "Dept"})},
	"PUT /{pid}/departments/{id}":                {allow: tiledesk.RoleAdmin, body: fixed(map[string]string{"name": "Dept2"})},
	"PATCH /{pid}/departments/{id}":              {allow: tiledesk.RoleAdmin, body: fixed(map[string]string{"description": "d"})},
	"DELETE /{pid}/departments/{id}":             {allow: tiledesk.RoleAdmin},
	"GET /{pid}/subscriptions":                   {allow: tiledesk.RoleAdmin},
	"POST /{pid}/subscriptions": {allow: tiledesk.RoleAdmin, body: func(w *world, _ *credential) any {
		return map[string]string{"event": "lead.create", "target": "https://hooks.example.com/" + w.fresh("new")}
	}},
	"GET /{pid}/subscriptions/{id}":                                    {allow: tiledesk.RoleAdmin},
	"PUT /{pid}/subscriptions/{id}":                                    {allow: tiledesk.RoleAdmin, body: fixed(map[string]string{"target": "https://hooks.example.com/changed"})},
	"DELETE /{pid}/subscriptions/{id}":                                 {allow: tiledesk.RoleAdmin},
	"GET /{pid}/subscriptions/{id}/deliveries":                         {allow: tiledesk.RoleAdmin},
	"POST /{pid}/subscriptions/{id}/deliveries/{deliveryId}/redeliver": {allow: tiledesk.RoleAdmin},
	"POST /{pid}/requests":                                             {bots: true, allow: tiledesk.RoleAgent, body: fixed(map[string]string{"first_text": "Hello from the matrix"})},
	"GET /{pid}/requests":                                              {bots: true, allow: tiledesk.RoleAgent},
	"GET /{pid}/requests/me":                                           {bots: true, allow: tiledesk.RoleGuest},
	"GET /{pid}/requests/count":                                        {bots: true, allow: tiledesk.RoleAgent},
	"GET /{pid}/requests/csv":                                          {bots: true, allow: tiledesk.RoleAgent},
	"GET /{pid}/requests/{rid}":                                        {bots: true, allow: tiledesk.RoleAgent},
	"PATCH /{pid}/requests/{rid}":                                      {bots: true, allow: tiledesk.RoleAgent, body: fixed(map[string]string{"subject": "Changed"})},
	"PATCH /{pid}/requests/{rid}/attributes":                           {bots: true, allow: tiledesk.RoleAgent, body: fixed(map[string]any{"a": 1})},
	"PUT /{pid}/requests/{rid}/close":                                  {bots: true, allow: tiledesk.RoleAgent},
	"PUT /{pid}/requests/{rid}/closeg":                                 {bots: true, allow: tiledesk.RoleAgent, requester: true},
	"PUT /{pid}/requests/{rid}/reopen":                                 {bots: true, allow: tiledesk.RoleAgent},
	"POST /{pid}/requests/{rid}/participants":                          {bots: true, allow: tiledesk.RoleAgent, body: func(w *world, _ *credential) any { return map[string]string{"member": w.adminA.id} }},
	"PUT /{pid}/requests/{rid}/participants":                           {bots: true, allow: tiledesk.RoleAgent, body: func(w *world, _ *credential) any { return []string{w.agentA.id} }},
	"DELETE /{pid}/requests/{rid}/participants/{participant}":          {bots: true, allow: tiledesk.RoleAgent},
	"PUT /{pid}/requests/{rid}/departments":                            {bots: true, allow: tiledesk.RoleAgent, body: func(w *world, _ *credential) any { return map[string]string{"departmentid": w.deptA} }},
	"PUT /{pid}/requests/{rid}/assign":                                 {bots: true, allow: tiledesk.RoleAgent, body: func(w *world, _ *credential) any { return map[string]string{"assignee": w.agentA.id} }},
	"GET /{pid}/groups":                                                {bots: true, allow: tiledesk.RoleAgent},
	"GET /{pid}/groups/{id}":                                           {bots: true, allow: tiledesk.RoleAgent},
	"POST /{pid}/groups":                                               {bots: true, allow: tiledesk.RoleAdmin, body: fixed(map[string]any{"name": "Matrix group"})},
	"PUT /{pid}/groups/{id}":                                           {bots: true, allow: tiledesk.RoleAdmin, body: fixed(map[string]any{"name": "Renamed group"})},
	"PUT /{pid}/groups/enable/{id}":                                    {bots: true, allow: tiledesk.RoleAdmin},
	"PUT /{pid}/groups/disable/{id}":                                   {bots: true, allow: tiledesk.RoleAdmin},
	"DELETE /{pid}/groups/{id}":                                        {bots: true, allow: tiledesk.RoleAdmin},
	"GET /{pid}/tags":                                                  {bots: true, allow: tiledesk.RoleAgent},
	"GET /{pid}/tags/{id}":                                             {bots: true, allow: tiledesk.RoleAgent},
	"POST /{pid}/tags":                                                 {bots: true, allow: tiledesk.RoleAgent, body: func(w *world, _ *credential) any { return map[string]string{"tag": w.fresh("t")} }},
	"PUT /{pid}/tags/{id}":                                             {bots: true, allow: tiledesk.RoleAgent, body: fixed(map[string]any{"color": "#ff0000"})},
	"DELETE /{pid}/tags/{id}":                                          {bots: true, allow: tiledesk.RoleAgent},
	"GET /{pid}/canned":                                                {allow: tiledesk.RoleAgent},
	"GET /{pid}/canned/{id}":                                           {allow: tiledesk.RoleAgent},
	"POST /{pid}/canned":                                               {allow: tiledesk.RoleAgent, body: fixed(map[string]any{"text": "Hello $recipient_name"})},
	"PUT /{pid}/canned/{id}":                                           {allow: tiledesk.RoleAdmin, body: fixed(map[string]any{"title": "Renamed"})},
	"DELETE /{pid}/canned/{id}":                                        {allow: tiledesk.RoleAdmin},
	"DELETE /{pid}/canned/{id}/physical":                               {allow: tiledesk.RoleAdmin},
	"POST /{pid}/faq_kb/askbot": {bots: true, allow: tiledesk.RoleAdmin, body: func(w *world, _ *credential) any {
		return map[string]string{"id_faq_kb": w.botA, "question": "Question"}
	}},
	"POST /{pid}/bots/askbot": {bots: true, allow: tiledesk.RoleAdmin, body: func(w *world, _ *credential) any {
		return map[string]string{"id_faq_kb": w.botA, "question": "Question"}
	}},
	"GET /{pid}/faq/csv": {bots: true, allow: tiledesk.RoleAdmin},
	"POST /{pid}/faq/uploadcsv": {bots: true, allow: tiledesk.RoleAdmin, body: func(w *world, _ *credential) any {
		return map[string]string{"id_faq_kb": w.botA, "uploadFile": "How?;So."}
	}},
	"GET /{pid}/intents/csv": {bots: true, allow: tiledesk.RoleAdmin},
	"POST /{pid}/intents/uploadcsv": {bots: true, allow: tiledesk.RoleAdmin, body: func(w *world, _ *credential) any {
		return map[string]string{"id_faq_kb": w.botA, "uploadFile": "How?;So."}
	}},
	"GET /{pid}/analytics/requests/count":                        {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/aggregate/day":                {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/aggregate/week":               {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/aggregate/month":              {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/aggregate/status":             {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/waiting":                      {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/duration":                     {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/aggregate/hours":              {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/aggregate/dayoftheweek/hours": {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/waiting/day/last":             {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/waiting/day":                  {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/waiting/month":                {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/duration/day":                 {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/duration/month":               {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/satisfaction":                 {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/satisfaction/day":             {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/satisfaction/month":           {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/messages/count":                        {allow: tiledesk.RoleAdmin},
	"GET /{pid}/analytics/requests/times/csv":                    {allow: tiledesk.RoleAdmin},
	"POST /{pid}/emails/internal/send":                           {bots: true, allow: tiledesk.RoleAgent, body: fixed(map[string]string{"to": "someone@example.com", "text": "Hi"})},
	"PUT /{pid}/requests/{rid}/replace": {bots: true, allow: tiledesk.RoleAgent, body: func(w *world, _ *credential) any {
		return map[string]string{"id": w.botA}
	}},
	"GET /{pid}/requests/{rid}/chatbot/parameters":      {bots: true, allow: tiledesk.RoleAgent, requester: true},
	"PATCH /{pid}/requests/{rid}/chatbot/parameters":    {bots: true, allow: tiledesk.RoleAgent, body: fixed(map[string]any{"step": 2})},
	"PUT /{pid}/requests/{rid}/agent":                   {bots: true, allow: tiledesk.RoleAgent},
	"POST /{pid}/requests/{rid}/notes":                  {bots: true, allow: tiledesk.RoleAgent, body: fixed(map[string]string{"text": "a note"})},
	"DELETE /{pid}/requests/{rid}/notes/{note}":         {bots: true, allow: tiledesk.RoleAgent},
	"PUT /{pid}/requests/{rid}/tag":                     {bots: true, allow: tiledesk.RoleAgent, body: fixed([]map[string]string{{"tag": "new"}})},
	"DELETE /{pid}/requests/{rid}/tag/{tag}":            {bots: true, allow: tiledesk.RoleAgent},
	"POST /{pid}/requests/{rid}/followers":              {bots: true, allow: tiledesk.RoleAgent, body: func(w *world, _ *credential) any { return map[string]string{"member": w.teammateA} }},
	"PUT /{pid}/requests/{rid}/followers":               {bots: true, allow: tiledesk.RoleAgent, body: func(w *world, _ *credential) any { return []string{w.teammateA} }},
	"DELETE /{pid}/requests/{rid}/followers/{follower}": {bots: true, allow: tiledesk.RoleAgent},
	"PATCH /{pid}/requests/{rid}/rating":                {bots: true, allow: tiledesk.RoleAgent, requester: true, body: fixed(map[string]any{"rating": 5})},
	"DELETE /{pid}/requests/{rid}":                      {allow: tiledesk.RoleOwner}, // agent route, owner checked inside
	"DELETE /{pid}/requests/id/{id}":                    {allow: tiledesk.RoleOwner}, // agent route, owner checked inside
	"POST /{pid}/requests/{rid}/messages":               {bots: true, allow: tiledesk.RoleAgent, requester: true, createsInB: true, body: fixed(map[string]string{"text": "a reply"})},
	"POST /{pid}/requests/{rid}/messages/multi":         {bots: true, allow: tiledesk.RoleAgent, body: fixed([]map[string]string{{"text": "one"}, {"text": "two"}})},
	"GET /{pid}/requests/{rid}/messages":                {bots: true, allow: tiledesk.RoleAgent, requester: true},
	"GET /{pid}/requests/{rid}/messages/csv":            {bots: true, allow: tiledesk.RoleAgent, requester: true},
	"GET /{pid}/requests/{rid}/messages/{mid}":          {bots: true, allow: tiledesk.RoleAgent, requester: true},
	"GET /{pid}/events/feed":                            {allow: tiledesk.RoleAgent},
	"POST /{pid}/events":                                {bots: true, allow: tiledesk.RoleGuest, body: fixed(map[string]any{"name": "matrix.event", "attributes": map[string]any{"a": 1}})},
	"GET /{pid}/events":                                 {allow: tiledesk.RoleAgent},
	"GET /{pid}/events/{id}":                            {allow: tiledesk.RoleAgent},
}

func fixed(v any) func(*world, *credential) any { return func(*world, *credential) any { return v } }

// credential is one column of the matrix.
type credential struct {
	name      string
	role      string // role in project A ("" for none)
	requester bool   // the guest who started the fixture conversation
	user      bool   // a registered user (not a guest)
	bot       bool   // a bot of project A, by its own token
	valid     bool   // the credential verifies
	outsider  bool   // must never see project A's private data
	password  string
	auth      string // Authorization header value
}

// world is a fresh pair of projects: A, which the matrix calls, and B, whose owner is the "other
// project" credential. A's private data carries marker strings that must never reach an outsider.
type world struct {
	e                  *testEnv
	tag                string
	pidA, pidB         string
	leadA, leadB       string
	teammateA          string // a membership of A that admins may change and remove
	teammate           account
	hiddenAgent        account // an agent of A who may not see the conversation rid
	agentsOnly         string  // a marker of what only agents may read (the note's text)
	rid, mid, note     string  // a conversation of A started by a guest, its first message, a note on it
	ridObject          string  // that conversation's _id
	agentUserA         string
	deptA              string
	subA               string // a webhook subscription of A (its target carries the marker)
	signer             account
	verifyToken        string // the signer's address verification token
	resetToken         string // the signer's password reset token
	invitationA        string // a pending invitation of A (its address carries the marker)
	invitationToken    string // its mailed token
	eventA             string // a custom event of A sent by the requester (its attributes carry the marker)
	botA, intentA      string // a bot of A offered to agents, and one of its intents (both carry the marker)
	botTokenA          string // botA's token
	botTokenB          string // the token of a bot of B
	groupA, tagA       string // a group of A (agentA in it) and a tag of its library (both carry the marker)
	cannedA            string // a shared canned response of A's owner (it carries the marker)
	markers            []string
	creds              []*credential
	crossTenant        *credential // B's owner calling through B with A's object ids
	ownerA, ownerB     account
	agentA, adminA     account
	guestToken, guestA string
}

var worldSeq int

func (w *world) fresh(prefix string) string {
	worldSeq++
	return fmt.Sprintf("%s%s%d", prefix, w.tag, worldSeq)
}

func (w *world) newSignup() map[string]string {
	return map[string]string{"email": w.fresh("newuser") + "@example.com", "password": "Passw0rd!",
		"firstname": "New", "lastname": "User"}
}

func newWorld(e *testEnv) *world {
	t := e.t
	t.Helper()
	worldSeq++
	w := &world{e: e, tag: fmt.Sprintf("w%d", worldSeq)}
	w.ownerA, w.ownerB = e.signup("Owner"), e.signup("Other")
	w.agentA, w.adminA = e.signup("Agent"), e.signup("Admin")
	w.teammate, w.hiddenAgent = e.signup("Teammate"), e.signup("Hidden")
	w.signer = e.signup("Signer")
	secret := "PrivateOfA" + w.tag
	w.markers = []string{secret}
	w.pidA = e.createProject(w.ownerA, "Project "+secret)
	w.pidB = e.createProject(w.ownerB, "Project of B")
	e.join(w.ownerA, w.agentA, w.pidA, tiledesk.RoleAgent)
	e.join(w.ownerA, w.adminA, w.pidA, tiledesk.RoleAdmin)
	w.teammateA = e.join(w.ownerA, w.teammate, w.pidA, tiledesk.RoleAgent)
	e.join(w.ownerA, w.hiddenAgent, w.pidA, tiledesk.RoleAgent)
	w.agentUserA = w.agentA.id
	r := e.do("POST", "/"+w.pidA+"/leads", map[string]any{"fullname": "Lead " + secret, "email": strings.ToLower(secret) + "@lead.example",
		"tags": []string{"vip"}, "attributes": map[string]string{"k": secret}}, w.ownerA.jwt()).want(t, 200)
	w.leadA = r.json(t)["_id"].(string)
	r = e.do("POST", "/"+w.pidB+"/leads", map[string]any{"fullname": "Lead of B"}, w.ownerB.jwt()).want(t, 200)
	w.leadB = r.json(t)["_id"].(string)
	r = e.do("POST", "/"+w.pidA+"/departments", map[string]string{"name": "Sales"}, w.ownerA.jwt()).want(t, 200)
	w.deptA = r.json(t)["_id"].(string)
	r = e.do("POST", "/"+w.pidA+"/subscriptions", map[string]string{"event": "request.create",
		"target": "https://hooks.example.com/" + secret}, w.ownerA.jwt()).want(t, 200)
	w.subA = r.json(t)["_id"].(string)
	w.guestToken, w.guestA = e.guest(w.pidA)
	requesterToken, _ := e.guest(w.pidA)
	// The conversation is in a department restricted to a group: among the agents below supervisor,
	// only its participant (agentA) and its follower (the teammate) see it, not hiddenAgent.
	r = e.do("POST", "/"+w.pidA+"/departments", map[string]string{"name": "VIP", "id_group": "group-vip"}, w.ownerA.jwt()).want(t, 200)
	vip := r.json(t)["_id"].(string)
	w.rid = "support-group-" + w.pidA + "-" + w.tag
	r = e.do("POST", "/"+w.pidA+"/requests/"+w.rid+"/messages", map[string]string{"text": "Conversation " + secret,
		"departmentid": vip}, header("Authorization", requesterToken)).want(t, 200)
	w.mid = r.json(t)["_id"].(string)
	w.ridObject = r.json(t)["request"].(map[string]any)["_id"].(string)
	e.do("PUT", "/"+w.pidA+"/requests/"+w.rid+"/participants", []string{w.agentA.id}, w.ownerA.jwt()).want(t, 200)
	e.do("PUT", "/"+w.pidA+"/requests/"+w.rid+"/tag", []map[string]string{{"tag": "vip"}}, w.ownerA.jwt()).want(t, 200)
	w.agentsOnly = "AgentsOnly" + w.tag
	r = e.do("POST", "/"+w.pidA+"/requests/"+w.rid+"/notes", map[string]string{"text": "note " + secret + " " + w.agentsOnly},
		w.ownerA.jwt()).want(t, 200)
	if notes, _ := r.json(t)["notes"].([]any); len(notes) > 0 {
		w.note, _ = notes[len(notes)-1].(map[string]any)["_id"].(string)
	}
	e.do("POST", "/"+w.pidA+"/requests/"+w.rid+"/followers", map[string]string{"member": w.teammateA}, w.ownerA.jwt()).want(t, 200)
	r = e.do("POST", "/"+w.pidA+"/project_users/invite", map[string]string{"email": "pending-" + strings.ToLower(secret) + "@example.com"},
		w.ownerA.jwt()).want(t, 200)
	inv := r.json(t)["pendingInvitation"].(map[string]any)
	w.invitationA = inv["_id"].(string)
	w.invitationToken = token(t, e.mails.last(t, inv["email"].(string), "handle-invitation").Link, "handle-invitation/")
	r = e.do("POST", "/"+w.pidA+"/events", map[string]any{"name": "page.viewed", "attributes": map[string]string{"page": secret}},
		header("Authorization", requesterToken)).want(t, 200)
	w.eventA = r.json(t)["_id"].(string)
	for _, lang := range []string{"EN", "IT"} {
		e.do("POST", "/"+w.pidA+"/labels", map[string]any{"lang": lang, "data": map[string]string{"WELCOME_TITLE": "Hi " + secret}},
			w.ownerA.jwt()).want(t, 200)
	}
	r = e.do("POST", "/"+w.pidA+"/faq_kb", map[string]any{"name": "Bot " + secret, "agents_available": true,
		"url": "https://bots.example.com/" + secret}, w.ownerA.jwt()).want(t, 200)
	w.botA = r.json(t)["_id"].(string)
	r = e.do("POST", "/"+w.pidA+"/faq", map[string]string{"id_faq_kb": w.botA, "question": "Question " + secret},
		w.ownerA.jwt()).want(t, 200)
	w.intentA = r.json(t)["_id"].(string)
	r = e.do("POST", "/"+w.pidA+"/groups", map[string]any{"name": "Group " + secret, "members": []string{w.agentA.id}},
		w.ownerA.jwt()).want(t, 200)
	w.groupA = r.json(t)["_id"].(string)
	r = e.do("POST", "/"+w.pidA+"/tags", map[string]any{"tag": "Tag " + secret}, w.ownerA.jwt()).want(t, 200)
	w.tagA = r.json(t)["_id"].(string)
	r = e.do("POST", "/"+w.pidA+"/canned", map[string]any{"text": "Canned " + secret, "shared": true}, w.ownerA.jwt()).want(t, 200)
	w.cannedA = r.json(t)["_id"].(string)
	w.botTokenA = e.do("GET", "/"+w.pidA+"/faq_kb/"+w.botA+"/jwt", nil, w.ownerA.jwt()).want(t, 200).json(t)["jwt"].(string)
	r = e.do("POST", "/"+w.pidB+"/faq_kb", map[string]any{"name": "Bot of B"}, w.ownerB.jwt()).want(t, 200)
	w.botTokenB = e.do("GET", "/"+w.pidB+"/faq_kb/"+r.json(t)["_id"].(string)+"/jwt", nil, w.ownerB.jwt()).want(t, 200).json(t)["jwt"].(string)
	signer, err := e.store.FindUserByID(context.Background(), w.signer.id)
	if err != nil {
		t.Fatal(err)
	}
	exp := e.clock.Now().Add(time.Hour)
	w.verifyToken = e.srv.links.Sign(auth.LinkVerifyEmail, signer.ID, exp, signer.Email)
	w.resetToken = e.srv.links.Sign(auth.LinkResetPassword, signer.ID, exp, signer.Email, signer.PasswordHash)

	forged, err := mustTokens(t, "a secret this server does not know").Issue(auth.Claims{ID: w.ownerA.id, Email: w.ownerA.email, Subject: auth.SubjectUser})
	if err != nil {
		t.Fatal(err)
	}
	w.creds = []*credential{
		{name: "none", outsider: true},
		{name: "bad", outsider: true, auth: "JWT " + forged},
		{name: "other-project", user: true, valid: true, outsider: true, password: w.ownerB.password, auth: w.ownerB.token},
		{name: "guest", role: tiledesk.RoleGuest, valid: true, auth: w.guestToken},
		{name: "requester", role: tiledesk.RoleGuest, requester: true, valid: true, auth: requesterToken},
		{name: "bot-of-other-project", bot: true, valid: true, outsider: true, auth: "JWT " + w.botTokenB},
		{name: "bot", bot: true, valid: true, auth: "JWT " + w.botTokenA},
		{name: "agent", role: tiledesk.RoleAgent, user: true, valid: true, password: w.agentA.password, auth: w.agentA.token},
		{name: "admin", role: tiledesk.RoleAdmin, user: true, valid: true, password: w.adminA.password, auth: w.adminA.token},
		{name: "owner", role: tiledesk.RoleOwner, user: true, valid: true, password: w.ownerA.password, auth: w.ownerA.token},
	}
	w.crossTenant = &credential{name: "cross-tenant", user: true, valid: true, outsider: true, password: w.ownerB.password, auth: w.ownerB.token}
	return w
}

func mustTokens(t *testing.T, secret string) *auth.Tokens {
	tk, err := auth.NewTokens([]byte(secret), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// allowed reports whether the policy admits the credential.
func (p policy) allowed(c *credential) bool {
	switch p.allow {
	case "public":
		return true
	case "authed":
		return c.valid && (!c.bot || p.bots)
	case "registered":
		return c.valid && c.user
	}
	if c.bot {
		return p.bots && !c.outsider
	}
	return c.role != "" && tiledesk.HasRole(c.role, p.allow) || p.requester && c.requester
}

var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// path fills a pattern's parameters from the world's fixtures, by the parameter's name and the
// segment before it; an unknown parameter fails the test, so a new kind of route needs a fixture.
func (w *world) path(t *testing.T, pattern, pid string) string {
	var missing []string
	segs := strings.Split(pattern, "/")
	orig := strings.Split(pattern, "/")
	for i, seg := range orig {
		if !pathParam.MatchString(seg) {
			continue
		}
		prev := ""
		if i > 0 {
			prev = orig[i-1]
		}
		key := prev + "/" + seg
		switch {
		case seg == "{$}":
			segs[i] = ""
		case seg == "{pid}":
			segs[i] = pid
		case key == "leads/{id}":
			segs[i] = w.leadA
		case key == "project_users/{id}":
			segs[i] = w.teammateA
		case key == "departments/{id}":
			segs[i] = w.deptA
		case key == "subscriptions/{id}":
			segs[i] = w.subA
		case key == "deliveries/{deliveryId}":
			segs[i] = tiledesk.DeliveryID(w.subA, 1)
		case key == "users/{user_id}":
			segs[i] = w.agentUserA
		case key == "tag/{tag}":
			segs[i] = "vip"
		case key == "requests/{rid}":
			segs[i] = w.rid
		case key == "id/{id}":
			segs[i] = w.ridObject
		case key == "{rid}/{file}":
			segs[i] = "messages.txt"
		case key == "labels/{lang}":
			segs[i] = "IT" // project A has texts in EN (its default) and IT
		case key == "default/{lang}":
			segs[i] = "EN"
		case key == "messages/{mid}":
			segs[i] = w.mid
		case key == "notes/{note}":
			segs[i] = w.note
		case key == "participants/{participant}":
			segs[i] = w.agentA.id
		case key == "followers/{follower}":
			segs[i] = w.teammateA
		case key == "verifyemail/{userid}":
			segs[i] = w.signer.id
		case key == "{userid}/{code}":
			segs[i] = w.verifyToken
		case key == "checkpswresetkey/{token}" || key == "resetpsw/{token}":
			segs[i] = w.resetToken
		case key == "pendinginvitationsnoauth/{token}":
			segs[i] = w.invitationToken
		case key == "groups/{id}" || key == "enable/{id}" || key == "disable/{id}":
			segs[i] = w.groupA
		case key == "canned/{id}":
			segs[i] = w.cannedA
		case key == "tags/{id}":
			segs[i] = w.tagA
		case key == "language/{language}":
			segs[i] = "it"
		case key == "{id}/{action}":
			segs[i] = "jwt"
		case key == "faq_kb/{id}" || key == "bots/{id}" || key == "exportjson/{id}" || key == "importjson/{id}" || key == "fork/{id}":
			segs[i] = w.botA
		case key == "faq/{id}" || key == "intents/{id}":
			segs[i] = w.intentA
		case key == "events/{id}":
			segs[i] = w.eventA
		case key == "pendinginvitations/{id}" || key == "resendinvite/{id}":
			segs[i] = w.invitationA
		case key == "api/{app}":
			segs[i] = "tilechat"
		case key == "{app}/{uid}":
			segs[i] = w.signer.id
		case key == "{uid}/{list}":
			segs[i] = "conversations"
		case key == "{list}/{cw}" || key == "conversations/{cw}":
			segs[i] = w.rid
		case key == "groups/{gid}":
			segs[i] = w.rid
		case key == "members/{mid}":
			segs[i] = w.agentA.id
		default:
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("route %s: no fixture for path parameter %v: add one to world.path", pattern, missing)
	}
	return strings.Join(segs, "/")
}

// call sends one matrix request and returns the response.
func (w *world) call(ri RouteInfo, p policy, c *credential, pid string) *resp {
	var body any
	if p.body != nil {
		body = p.body(w, c)
	}
	var creds []cred
	if c.auth != "" {
		creds = append(creds, header("Authorization", c.auth))
	}
	return w.e.do(ri.Method, w.path(w.e.t, ri.Pattern, pid), body, creds...)
}

func (w *world) leaks(r *resp) string {
	for _, m := range w.markers {
		if strings.Contains(strings.ToLower(string(r.body)), strings.ToLower(m)) {
			return m
		}
	}
	return ""
}

func TestTenancyAndRoleMatrix(t *testing.T) {
	e := newEnv(t)
	routes := e.srv.RouteTable()
	if len(routes) < 40 {
		t.Fatalf("RouteTable() lists %d routes; the route table has at least 40", len(routes))
	}
	seen := map[string]bool{}
	for _, ri := range routes {
		key := ri.Method + " " + ri.Pattern
		seen[key] = true
		p, ok := matrix[key]
		if !ok {
			t.Errorf("route %s has no entry in the tenancy matrix (internal/api/matrix_test.go): decide who may call it", key)
			continue
		}
		// Each route gets a fresh world, so a destructive call cannot hide another route's answer.
		// Callers run from the least to the most powerful, the owner last.
		w := newWorld(e)
		for _, c := range w.creds {
			r := w.call(ri, p, c, w.pidA)
			switch {
			case r.status >= 500:
				t.Errorf("%s as %s: %d %s", key, c.name, r.status, r.body)
			case p.allowed(c) && (r.status == http.StatusUnauthorized || r.status == http.StatusForbidden):
				t.Errorf("%s as %s: allowed by policy %q but answered %d %s", key, c.name, p.allow, r.status, r.body)
			case !p.allowed(c) && r.status != http.StatusUnauthorized && r.status != http.StatusForbidden && r.status != http.StatusNotFound:
				t.Errorf("%s as %s: refused by policy %q but answered %d %s", key, c.name, p.allow, r.status, r.body)
			}
			if (c.outsider || !p.allowed(c)) && p.allow != "public" {
				if m := w.leaks(r); m != "" {
					t.Errorf("%s as %s: the body carries project A's %q: %s", key, c.name, m, r.body)
				}
			}
			if c.role == tiledesk.RoleGuest && strings.Contains(string(r.body), w.agentsOnly) {
				t.Errorf("%s as %s: a visitor reads what only agents may: %s", key, c.name, r.body)
			}
		}
		// An object of project A asked for through project B, by B's owner: never found, never shown.
		if strings.HasPrefix(ri.Pattern, "/{pid}/") && strings.Count(ri.Pattern, "{") > 1 {
			// A refusal may also be a 400 or 422: B validates the body against B (A's member ids are
			// not B's) before it looks the object up. What matters is that nothing of A comes back.
			r := w.call(ri, p, w.crossTenant, w.pidB)
			switch {
			case r.status >= 500:
				t.Errorf("%s with project A's ids through project B: %d %s", key, r.status, r.body)
			case r.status < 400 && !p.createsInB && !p.byValue:
				t.Errorf("%s with project A's ids through project B: %d, want 404 %s", key, r.status, r.body)
			}
			if m := w.leaks(r); m != "" {
				t.Errorf("%s with project A's ids through project B: body carries %q: %s", key, m, r.body)
			}
		}
	}
	for key := range matrix {
		if !seen[key] {
			t.Errorf("matrix entry %s names no registered route: remove it", key)
		}
	}
}

// TestConversationVisibilityMatrix holds every route of one conversation to the visibility rule
// (tiledesk.Visibility): an agent who may not see the conversation (restricted department, neither
// participant nor follower) gets 404, as for an id of another project, whatever the route; a guest
// gets 404 for another visitor's conversation on every route a guest may call; an agent who sees it
// by following it gets the route's normal answer.
func TestConversationVisibilityMatrix(t *testing.T) {
	e := newEnv(t)
	n := 0
	for _, ri := range e.srv.RouteTable() {
		key := ri.Method + " " + ri.Pattern
		if !strings.HasPrefix(ri.Pattern, "/{pid}/requests/{rid}") {
			continue
		}
		n++
		p := matrix[key]
		w := newWorld(e)
		hidden := &credential{name: "hidden-agent", role: tiledesk.RoleAgent, user: true, valid: true, auth: w.hiddenAgent.token}
		follower := &credential{name: "follower", role: tiledesk.RoleAgent, user: true, valid: true, auth: w.teammate.token}
		var guest *credential
		for _, c := range w.creds {
			if c.name == "guest" {
				guest = c
			}
		}
		r := w.call(ri, p, hidden, w.pidA)
		switch {
		case p.allowed(hidden) && r.status != http.StatusNotFound:
			t.Errorf("%s by an agent who may not see the conversation: %d, want 404 %s", key, r.status, r.body)
		case !p.allowed(hidden) && r.status != http.StatusForbidden && r.status != http.StatusNotFound:
			t.Errorf("%s by an agent who may not see the conversation: %d, want 403 or 404 %s", key, r.status, r.body)
		}
		if m := w.leaks(r); m != "" {
			t.Errorf("%s by an agent who may not see the conversation: the body carries %q: %s", key, m, r.body)
		}
		if ri.Role == "" { // open to any member: another visitor's conversation is not found
			if r := w.call(ri, p, guest, w.pidA); r.status != http.StatusNotFound || w.leaks(r) != "" {
				t.Errorf("%s by a guest on another visitor's conversation: %d, want 404 %s", key, r.status, r.body)
			}
		}
		if r := w.call(ri, p, follower, w.pidA); r.status == http.StatusNotFound || r.status >= 500 {
			t.Errorf("%s by an agent who follows the conversation: %d %s", key, r.status, r.body)
		}
	}
	if n < 25 {
		t.Fatalf("%d conversation routes; the route table has at least 25", n)
	}
}
