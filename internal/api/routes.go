package api

import "github.com/tiledesk-go/tiledesk"

// routes registers every route, on one page. Root routes have a fixed first segment; project routes
// start with the project id and resolve it before anything else.
func (s *Server) routes() {
	r, p := s.root, s.project

	s.handle(r, "GET /{$}", public, s.handleRoot)

	s.handle(r, "POST /auth/signup", signIn, s.handleSignup)
	s.handle(r, "POST /auth/signin", signIn, s.handleSignin)
	s.handle(r, "POST /auth/signinAnonymously", public, s.handleSigninAnonymously)
	s.handle(r, "POST /auth/signinWithCustomToken", public, s.handleSigninWithCustomToken)
	s.handle(r, "PUT /auth/verifyemail/{userid}/{code}", signIn, s.handleVerifyEmailCode)
	s.handle(r, "POST /auth/verifyemail", signIn, s.handleVerifyEmail)
	s.handle(r, "PUT /auth/requestresetpsw", signIn, s.handleRequestResetPassword)
	s.handle(r, "GET /auth/checkpswresetkey/{token}", signIn, s.handleCheckResetKey)
	s.handle(r, "PUT /auth/resetpsw/{token}", signIn, s.handleResetPassword)
	s.handle(r, "GET /auth/pendinginvitationsnoauth/{token}", signIn, s.handlePendingInvitationNoAuth)
	s.handle(r, "GET /testauth", authed, s.handleTestAuth)

	s.handle(r, "GET /users", authed, s.handleUserGet)
	s.handle(r, "PUT /users", registered, s.handleUserUpdate)
	s.handle(r, "PUT /users/changepsw", registered, s.handleChangePassword)
	s.handle(r, "GET /users/resendverifyemail", registered, s.handleResendVerifyEmail)
	s.handle(r, "DELETE /users", registered, s.handleUserDelete)

	s.handle(r, "POST /projects", registered, s.handleProjectCreate)
	s.handle(r, "GET /projects", registered, s.handleProjectList)
	s.handle(r, "GET /projects/{pid}", member(tiledesk.RoleAgent), s.handleProjectGet)
	s.handle(r, "PUT /projects/{pid}", member(tiledesk.RoleAdmin), s.handleProjectUpdate)
	s.handle(r, "DELETE /projects/{pid}", member(tiledesk.RoleOwner), s.handleProjectDelete)
	s.handle(r, "PATCH /projects/{pid}/attributes", member(tiledesk.RoleAdmin), s.handleProjectAttributes)

	s.handle(p, "GET /{pid}/project_users", member(tiledesk.RoleAgent).orBot(), s.handleProjectUserList)
	s.handle(p, "GET /{pid}/project_users/me", member(tiledesk.RoleAgent), s.handleProjectUserMe)
	s.handle(p, "GET /{pid}/project_users/{id}", member(tiledesk.RoleAgent), s.handleProjectUserGet)
	s.handle(p, "GET /{pid}/project_users/users/{user_id}", member(tiledesk.RoleAgent), s.handleProjectUserByUser)
	s.handle(p, "POST /{pid}/project_users/invite", member(tiledesk.RoleAdmin), s.handleProjectUserInvite)
	s.handle(p, "PUT /{pid}/project_users", member(tiledesk.RoleAgent), s.handleProjectUserUpdateMe)
	s.handle(p, "PUT /{pid}/project_users/{id}", member(tiledesk.RoleAdmin), s.handleProjectUserUpdate)
	s.handle(p, "DELETE /{pid}/project_users/{id}", member(tiledesk.RoleAdmin), s.handleProjectUserDelete)
	s.handle(p, "DELETE /{pid}/project_users/me", member(tiledesk.RoleTeammate), s.handleProjectUserLeave)

	admin := member(tiledesk.RoleAdmin)
	s.handle(p, "GET /{pid}/pendinginvitations", admin, s.handlePendingInvitationList)
	s.handle(p, "GET /{pid}/pendinginvitations/{id}", admin, s.handlePendingInvitationGet)
	s.handle(p, "DELETE /{pid}/pendinginvitations/{id}", admin, s.handlePendingInvitationDelete)
	s.handle(p, "GET /{pid}/pendinginvitations/resendinvite/{id}", admin, s.handlePendingInvitationResend)

	// Leads, conversations and messages admit the project's bots, as the original's.
	agent := member(tiledesk.RoleAgent).orBot()
	s.handle(p, "GET /{pid}/leads", agent, s.handleLeadList)
	s.handle(p, "GET /{pid}/leads/csv", agent, s.handleLeadCSV)
	s.handle(p, "GET /{pid}/leads/{id}", agent, s.handleLeadGet)
	s.handle(p, "POST /{pid}/leads", agent, s.handleLeadCreate)
	s.handle(p, "PUT /{pid}/leads/{id}", agent, s.handleLeadUpdate)
	s.handle(p, "PATCH /{pid}/leads/{id}/attributes", agent, s.handleLeadAttributes)
	s.handle(p, "POST /{pid}/leads/{id}/properties", agent, s.handleLeadProperties)
	s.handle(p, "PATCH /{pid}/leads/{id}/properties", agent, s.handleLeadProperties)
	s.handle(p, "PUT /{pid}/leads/{id}/tag", agent, s.handleLeadTagAdd)
	s.handle(p, "DELETE /{pid}/leads/{id}/tag/{tag}", agent, s.handleLeadTagRemove)
	s.handle(p, "DELETE /{pid}/leads/{id}", agent, s.handleLeadDelete)
	s.handle(p, "DELETE /{pid}/leads/{id}/physical", agent, s.handleLeadDeletePermanently)

	anyMember := member("").orBot()
	s.handle(p, "POST /{pid}/requests", agent, s.handleRequestCreate)
	s.handle(p, "GET /{pid}/requests", agent, s.handleRequestList)
	s.handle(p, "GET /{pid}/requests/me", anyMember, s.handleRequestMe)
	s.handle(p, "GET /{pid}/requests/count", agent, s.handleRequestCount)
	s.handle(p, "GET /{pid}/requests/csv", agent, s.handleRequestCSV)
	s.handle(p, "GET /{pid}/requests/{rid}", agent, s.handleRequestGet)
	s.handle(p, "PATCH /{pid}/requests/{rid}", agent, s.handleRequestPatch)
	s.handle(p, "PATCH /{pid}/requests/{rid}/attributes", agent, s.handleRequestAttributes)
	s.handle(p, "PUT /{pid}/requests/{rid}/close", agent, s.handleRequestClose)
	s.handle(p, "PUT /{pid}/requests/{rid}/closeg", anyMember, s.handleRequestCloseByGuest)
	s.handle(p, "PUT /{pid}/requests/{rid}/reopen", agent, s.handleRequestReopen)
	s.handle(p, "POST /{pid}/requests/{rid}/participants", agent, s.handleParticipantAdd)
	s.handle(p, "PUT /{pid}/requests/{rid}/participants", agent, s.handleParticipantsSet)
	s.handle(p, "DELETE /{pid}/requests/{rid}/participants/{participant}", agent, s.handleParticipantRemove)
	s.handle(p, "PUT /{pid}/requests/{rid}/departments", agent, s.handleRequestDepartment)
	s.handle(p, "PUT /{pid}/requests/{rid}/assign", agent, s.handleRequestAssign)
	s.handle(p, "PUT /{pid}/requests/{rid}/agent", agent, s.handleRequestAgent)
	s.handle(p, "POST /{pid}/requests/{rid}/notes", agent, s.handleNoteAdd)
	s.handle(p, "DELETE /{pid}/requests/{rid}/notes/{note}", agent, s.handleNoteDelete)
	s.handle(p, "PUT /{pid}/requests/{rid}/tag", agent, s.handleRequestTagAdd)
	s.handle(p, "DELETE /{pid}/requests/{rid}/tag/{tag}", agent, s.handleRequestTagRemove)
	s.handle(p, "POST /{pid}/requests/{rid}/followers", agent, s.handleFollowerAdd)
	s.handle(p, "PUT /{pid}/requests/{rid}/followers", agent, s.handleFollowersSet)
	s.handle(p, "DELETE /{pid}/requests/{rid}/followers/{follower}", agent, s.handleFollowerRemove)
	s.handle(p, "PATCH /{pid}/requests/{rid}/rating", anyMember, s.handleRequestRating)
	s.handle(p, "DELETE /{pid}/requests/{rid}", agent, s.handleRequestDelete)
	s.handle(p, "DELETE /{pid}/requests/id/{id}", agent, s.handleRequestDeleteByID)

	s.handle(p, "POST /{pid}/requests/{rid}/messages", anyMember, s.handleMessageCreate)
	s.handle(p, "POST /{pid}/requests/{rid}/messages/multi", agent, s.handleMessagesMulti)
	s.handle(p, "GET /{pid}/requests/{rid}/messages", anyMember, s.handleMessageList)
	s.handle(p, "GET /{pid}/requests/{rid}/messages/csv", anyMember, s.handleMessageCSV)
	s.handle(p, "GET /{pid}/requests/{rid}/messages/{mid}", anyMember, s.handleMessageGet)

	s.moreRoutes()
}

// moreRoutes goes on with the project routes (one function would be too long to read).
func (s *Server) moreRoutes() {
	p := s.project
	s.handle(p, "POST /{pid}/messages", member(tiledesk.RoleAgent), s.handleDirectMessageCreate)
	s.handle(p, "GET /{pid}/messages", member(tiledesk.RoleOwner), s.handleDirectMessageList)
	s.handle(p, "GET /{pid}/departments", public, s.handleDepartmentList)
	s.handle(p, "GET /{pid}/departments/allstatus", member(tiledesk.RoleAgent).orBot(), s.handleDepartmentListAll)
	s.handle(p, "GET /{pid}/departments/{id}", public, s.handleDepartmentGet)
	s.handle(p, "GET /{pid}/departments/{id}/operators", member(tiledesk.RoleAgent).orBot(), s.handleDepartmentOperators)
	s.handle(p, "POST /{pid}/departments", member(tiledesk.RoleAdmin), s.handleDepartmentCreate)
	s.handle(p, "PUT /{pid}/departments/{id}", member(tiledesk.RoleAdmin), s.handleDepartmentPut)
	s.handle(p, "PATCH /{pid}/departments/{id}", member(tiledesk.RoleAdmin), s.handleDepartmentPatch)
	s.handle(p, "DELETE /{pid}/departments/{id}", member(tiledesk.RoleAdmin), s.handleDepartmentDelete)

	s.handle(p, "GET /{pid}/events/feed", member(tiledesk.RoleAgent), s.handleEventFeed)
	s.handle(p, "POST /{pid}/events", member("").orBot(), s.handleCustomEventCreate)
	s.handle(p, "GET /{pid}/events", member(tiledesk.RoleAgent), s.handleCustomEventList)
	s.handle(p, "GET /{pid}/events/{id}", member(tiledesk.RoleAgent), s.handleCustomEventGet)
	s.handle(p, "POST /{pid}/emails/internal/send", member(tiledesk.RoleAgent).orBot(), s.handleEmailSend)

	s.webhookRoutes()
	s.widgetRoutes()
	s.chatRoutes()
	s.botRoutes()
	s.catalogueRoutes()
	s.analyticsRoutes()
}

// chatRoutes registers the chat21 protocol's routes: the official clients' chat token, and the
// lists they read (the MQTT websocket itself is served beside the routes, at chat21.Path).
// {uid}/{list} also serves groups/{gid}: the mux would not tell them apart.
func (s *Server) chatRoutes() {
	r := s.root
	s.handle(r, "POST /chat21/native/auth/createCustomToken", authed, s.handleChat21Token)
	s.handle(r, "GET /chatapi/api/{app}/{uid}/{list}", chatUser, s.handleChatList)
	s.handle(r, "GET /chatapi/api/{app}/{uid}/{list}/{cw}", chatUser, s.handleChatListItem)
	s.handle(r, "GET /chatapi/api/{app}/{uid}/conversations/{cw}/messages", chatUser, s.handleChatMessages)
	// .../{uid}/instances/{id} and .../groups/{gid}/members share a pattern, for the same reason.
	s.handle(r, "POST /chatapi/api/{app}/{uid}/{list}/{cw}", chatUser, s.handleChatPost)
	s.handle(r, "PUT /chatapi/api/{app}/groups/{gid}/members", chatUser, s.handleChatGroupSetMembers)
	s.handle(r, "DELETE /chatapi/api/{app}/groups/{gid}/members/{mid}", chatUser, s.handleChatGroupLeave)
	s.handle(r, "POST /chatapi/api/{app}/groups", chatUser, s.handleChatGroupCreate)
	s.handle(r, "PUT /chatapi/api/{app}/groups/{gid}", chatUser, s.handleChatGroupUpdate)
	s.handle(r, "PUT /chatapi/api/{app}/groups/{gid}/attributes", chatUser, s.handleChatGroupAttributes)
}

// analyticsRoutes registers the dashboard's analytics (admins).
func (s *Server) analyticsRoutes() {
	p, admin := s.project, member(tiledesk.RoleAdmin)
	s.handle(p, "GET /{pid}/analytics/requests/count", admin, s.handleAnalyticsRequestCount)
	s.handle(p, "GET /{pid}/analytics/requests/aggregate/day", admin, s.handleAnalyticsRequestSeries("day", 7))
	s.handle(p, "GET /{pid}/analytics/requests/aggregate/week", admin, s.handleAnalyticsRequestSeries("week", 12*7))
	s.handle(p, "GET /{pid}/analytics/requests/aggregate/month", admin, s.handleAnalyticsRequestSeries("month", 365))
	s.handle(p, "GET /{pid}/analytics/requests/aggregate/status", admin, s.handleAnalyticsRequestStatus)
	s.handle(p, "GET /{pid}/analytics/requests/waiting", admin,
		s.handleAnalyticsAverage("waiting_time_avg", func(a tiledesk.RequestAverages) *float64 { return a.Waiting }))
	s.handle(p, "GET /{pid}/analytics/requests/duration", admin,
		s.handleAnalyticsAverage("duration_avg", func(a tiledesk.RequestAverages) *float64 { return a.Duration }))
	s.handle(p, "GET /{pid}/analytics/requests/aggregate/hours", admin, s.handleAnalyticsHours())
	s.handle(p, "GET /{pid}/analytics/requests/aggregate/dayoftheweek/hours", admin, s.handleAnalyticsWeekdayHours())
	s.handle(p, "GET /{pid}/analytics/requests/waiting/day/last", admin, s.handleAnalyticsWindowAverage(waitingAverage, 1, false))
	s.handle(p, "GET /{pid}/analytics/requests/waiting/day", admin, s.handleAnalyticsAverageSeries(waitingAverage, "day", 7))
	s.handle(p, "GET /{pid}/analytics/requests/waiting/month", admin, s.handleAnalyticsAverageSeries(waitingAverage, "month", 365))
	s.handle(p, "GET /{pid}/analytics/requests/duration/day", admin, s.handleAnalyticsAverageSeries(durationAverage, "day", 7))
	s.handle(p, "GET /{pid}/analytics/requests/duration/month", admin, s.handleAnalyticsAverageSeries(durationAverage, "month", 30))
	s.handle(p, "GET /{pid}/analytics/requests/satisfaction", admin, s.handleAnalyticsWindowAverage(ratingAverage, 365, true))
	s.handle(p, "GET /{pid}/analytics/requests/satisfaction/day", admin, s.handleAnalyticsAverageSeries(ratingAverage, "day", 7))
	s.handle(p, "GET /{pid}/analytics/requests/satisfaction/month", admin, s.handleAnalyticsAverageSeries(ratingAverage, "month", 365))
	s.handle(p, "GET /{pid}/analytics/messages/count", admin, s.handleAnalyticsMessageCount)
	s.handle(p, "GET /{pid}/analytics/requests/times/csv", admin, s.handleAnalyticsRequestTimes)
}

// catalogueRoutes registers the project's groups of agents, its tag library and its canned
// responses.
func (s *Server) catalogueRoutes() {
	p := s.project
	agent := member(tiledesk.RoleAgent)
	agentOrBot, adminOrBot := agent.orBot(), member(tiledesk.RoleAdmin).orBot()
	s.handle(p, "GET /{pid}/groups", agentOrBot, s.handleGroupList)
	s.handle(p, "GET /{pid}/groups/{id}", agentOrBot, s.handleGroupGet)
	s.handle(p, "POST /{pid}/groups", adminOrBot, s.handleGroupCreate)
	s.handle(p, "PUT /{pid}/groups/{id}", adminOrBot, s.handleGroupUpdate)
	s.handle(p, "PUT /{pid}/groups/enable/{id}", adminOrBot, s.handleGroupEnable)
	s.handle(p, "PUT /{pid}/groups/disable/{id}", adminOrBot, s.handleGroupDisable)
	s.handle(p, "DELETE /{pid}/groups/{id}", adminOrBot, s.handleGroupDelete)
	s.handle(p, "GET /{pid}/tags", agentOrBot, s.handleLibraryTagList)
	s.handle(p, "GET /{pid}/tags/{id}", agentOrBot, s.handleLibraryTagGet)
	s.handle(p, "POST /{pid}/tags", agentOrBot, s.handleLibraryTagCreate)
	s.handle(p, "PUT /{pid}/tags/{id}", agentOrBot, s.handleLibraryTagUpdate)
	s.handle(p, "DELETE /{pid}/tags/{id}", agentOrBot, s.handleLibraryTagDelete)
	s.handle(p, "GET /{pid}/canned", agent, s.handleCannedList)
	s.handle(p, "GET /{pid}/canned/{id}", agent, s.handleCannedGet)
	s.handle(p, "POST /{pid}/canned", agent, s.handleCannedCreate)
	s.handle(p, "PUT /{pid}/canned/{id}", agent, s.handleCannedUpdate)
	s.handle(p, "DELETE /{pid}/canned/{id}", agent, s.handleCannedDelete)
	s.handle(p, "DELETE /{pid}/canned/{id}/physical", agent, s.handleCannedDeletePhysical)
}

// botRoutes registers the chatbots and their intents, each under the original's two names, and
// the bots' part in conversations. Bots read and change themselves and their intents; only admins
// create and delete them.
func (s *Server) botRoutes() {
	p, admin := s.project, member(tiledesk.RoleAdmin)
	agentOrBot, adminOrBot := member(tiledesk.RoleAgent).orBot(), admin.orBot()
	for _, bots := range []string{"faq_kb", "bots"} {
		s.handle(p, "GET /{pid}/"+bots, agentOrBot, s.handleBotList)
		s.handle(p, "POST /{pid}/"+bots, admin, s.handleBotCreate)
		s.handle(p, "GET /{pid}/"+bots+"/{id}", adminOrBot, s.handleBotGet)
		s.handle(p, "PUT /{pid}/"+bots+"/{id}", adminOrBot, s.handleBotUpdate)
		s.handle(p, "PATCH /{pid}/"+bots+"/{id}/attributes", adminOrBot, s.handleBotAttributes)
		s.handle(p, "PUT /{pid}/"+bots+"/{id}/language/{language}", adminOrBot, s.handleBotLanguage)
		s.handle(p, "DELETE /{pid}/"+bots+"/{id}", admin, s.handleBotDelete)
		// {action} is jwt: the mux would not tell .../{id}/jwt from .../exportjson/{id}.
		s.handle(p, "GET /{pid}/"+bots+"/{id}/{action}", adminOrBot, s.handleBotAction)
		s.handle(p, "GET /{pid}/"+bots+"/exportjson/{id}", admin, s.handleBotExport)
		s.handle(p, "POST /{pid}/"+bots+"/importjson/{id}", admin, s.handleBotImport)
		s.handle(p, "POST /{pid}/"+bots+"/fork/{id}", admin, s.handleBotFork)
		s.handle(p, "POST /{pid}/"+bots+"/{id}/jwt/rotate", admin, s.handleBotTokenRotate)
	}
	s.handle(p, "PUT /{pid}/requests/{rid}/replace", agentOrBot, s.handleRequestReplaceBot)
	s.handle(p, "GET /{pid}/requests/{rid}/chatbot/parameters", member("").orBot(), s.handleChatbotParameters)
	s.handle(p, "PATCH /{pid}/requests/{rid}/chatbot/parameters", agentOrBot, s.handleChatbotParametersMerge)
	s.handle(p, "POST /{pid}/faq_kb/askbot", adminOrBot, s.handleBotAsk)
	s.handle(p, "POST /{pid}/bots/askbot", adminOrBot, s.handleBotAsk)
	for _, intents := range []string{"faq", "intents"} {
		s.handle(p, "GET /{pid}/"+intents, agentOrBot, s.handleIntentList)
		s.handle(p, "GET /{pid}/"+intents+"/csv", adminOrBot, s.handleIntentsCSV)
		s.handle(p, "POST /{pid}/"+intents+"/uploadcsv", adminOrBot, s.handleIntentsUploadCSV)
		s.handle(p, "POST /{pid}/"+intents, adminOrBot, s.handleIntentCreate)
		s.handle(p, "GET /{pid}/"+intents+"/{id}", adminOrBot, s.handleIntentGet)
		s.handle(p, "PUT /{pid}/"+intents+"/{id}", adminOrBot, s.handleIntentUpdate)
		s.handle(p, "PATCH /{pid}/"+intents+"/{id}/attributes", adminOrBot, s.handleIntentAttributes)
		s.handle(p, "DELETE /{pid}/"+intents+"/{id}", adminOrBot, s.handleIntentDelete)
	}
}

// widgetRoutes registers what the chat widget and a project's own back end call: the public
// bootstrap, opening hours, available agents and transcripts, and the project's keys.
func (s *Server) widgetRoutes() {
	r, p := s.root, s.project
	s.handle(r, "GET /projects/{pid}/isopen", public, s.handleProjectIsOpen)
	s.handle(r, "GET /projects/{pid}/users/availables", public, s.handleAvailableUsers)
	s.handle(r, "GET /public/requests/{rid}/messages", public, s.handleTranscriptJSON)
	s.handle(r, transcriptFiles, public, s.handleTranscriptFile)
	s.handle(p, "GET /{pid}/widgets", public, s.handleWidget)
	s.handle(p, "GET /{pid}/publicanalytics/waiting/current", public, s.handleWaitingCurrent)
	s.handle(p, "POST /{pid}/keys/generate", member(tiledesk.RoleAdmin), s.handleKeysGenerate)
	s.handle(p, "POST /{pid}/jwt/decode", public, s.handleJWTDecode)
	s.labelRoutes()
}

// labelRoutes registers the widget's texts: public reads, the admins' changes.
func (s *Server) labelRoutes() {
	p, admin := s.project, member(tiledesk.RoleAdmin)
	s.handle(p, "GET /{pid}/labels", public, s.handleLabelsGet)
	s.handle(p, "GET /{pid}/labels/default", public, s.handleLabelsDefaults)
	s.handle(p, "GET /{pid}/labels/default/{lang}", public, s.handleLabelsDefaultLang)
	s.handle(p, "GET /{pid}/labels/{lang}", public, s.handleLabelsLang)
	s.handle(p, "POST /{pid}/labels/default/clone", admin, s.handleLabelsClone)
	s.handle(p, "POST /{pid}/labels", admin, s.handleLabelsSave)
	s.handle(p, "PATCH /{pid}/labels/{lang}/default", admin, s.handleLabelsMakeDefault)
	s.handle(p, "DELETE /{pid}/labels", admin, s.handleLabelsDelete)
	s.handle(p, "DELETE /{pid}/labels/{lang}", admin, s.handleLabelsDeleteLang)
}

// webhookRoutes registers the webhook subscriptions and their deliveries (admins).
func (s *Server) webhookRoutes() {
	p, admin := s.project, member(tiledesk.RoleAdmin)
	s.handle(p, "GET /{pid}/subscriptions", admin, s.handleSubscriptionList)
	s.handle(p, "POST /{pid}/subscriptions", admin, s.handleSubscriptionCreate)
	s.handle(p, "GET /{pid}/subscriptions/{id}", admin, s.handleSubscriptionGet)
	s.handle(p, "PUT /{pid}/subscriptions/{id}", admin, s.handleSubscriptionUpdate)
	s.handle(p, "DELETE /{pid}/subscriptions/{id}", admin, s.handleSubscriptionDelete)
	s.handle(p, "GET /{pid}/subscriptions/{id}/deliveries", admin, s.handleDeliveryList)
	s.handle(p, "POST /{pid}/subscriptions/{id}/deliveries/{deliveryId}/redeliver", admin, s.handleRedeliver)
}
