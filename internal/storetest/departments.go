package storetest

import (
	"context"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func testDepartments(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "owner")
	p, _, def := mustCreateProject(t, s, owner, "Depts")
	now := tiledesk.Now()
	d := &tiledesk.Department{ID: tiledesk.NewID(), ProjectID: p.ID, Name: "Billing", Routing: tiledesk.RoutingPooled,
		Status: tiledesk.DepartmentVisible, IDBot: "bot1", CreatedBy: owner.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateDepartment(ctx, d); err != nil {
		t.Fatal(err)
	}
	hidden := &tiledesk.Department{ID: tiledesk.NewID(), ProjectID: p.ID, Name: "Hidden", Routing: tiledesk.RoutingPooled,
		Status: tiledesk.DepartmentHiddenWidget, CreatedBy: owner.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateDepartment(ctx, hidden); err != nil {
		t.Fatal(err)
	}
	visible, err := s.FindDepartments(ctx, p.ID, tiledesk.DepartmentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(visible) != 2 || visible[0].ID != def.ID || visible[1].ID != d.ID {
		t.Fatalf("visible departments = %d, want default then Billing", len(visible))
	}
	zero := 0
	all, _ := s.FindDepartments(ctx, p.ID, tiledesk.DepartmentFilter{MinStatus: &zero, SortByName: true})
	if len(all) != 3 || all[0].Name != "Billing" || all[1].Name != tiledesk.DefaultDepartmentName || all[2].Name != "Hidden" {
		t.Fatalf("all departments by name = %v", names(all))
	}
	got, err := s.FindDepartmentByID(ctx, p.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.IDBot != "bot1" || !got.HasBot() || got.Groups == nil || got.Tags == nil {
		t.Fatalf("FindDepartmentByID = %+v", got)
	}
	name, empty, routing := "Sales", "", tiledesk.RoutingAssigned
	upd, err := s.UpdateDepartment(ctx, p.ID, d.ID, tiledesk.DepartmentUpdate{Name: &name, IDBot: &empty, Routing: &routing})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Name != "Sales" || upd.HasBot() || upd.Routing != tiledesk.RoutingAssigned {
		t.Fatalf("UpdateDepartment = %+v", upd)
	}
	_, err = s.DeleteDepartment(ctx, p.ID, def.ID)
	wantCode(t, err, tiledesk.ECONFLICT)
	del, err := s.DeleteDepartment(ctx, p.ID, d.ID)
	if err != nil || del.ID != d.ID {
		t.Fatalf("DeleteDepartment = %+v, %v", del, err)
	}
	_, err = s.FindDepartmentByID(ctx, p.ID, d.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.DeleteDepartment(ctx, p.ID, d.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	for _, name := range []string{tiledesk.EventDepartmentCreate, tiledesk.EventDepartmentUpdate, tiledesk.EventDepartmentDelete} {
		if len(events(t, s, p.ID, name)) == 0 {
			t.Fatalf("no %s event", name)
		}
	}
}

func names(ds []*tiledesk.Department) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

func testDefaultDepartmentUnique(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "owner")
	p, _, def := mustCreateProject(t, s, owner, "Defaults")
	now := tiledesk.Now()
	d := &tiledesk.Department{ID: tiledesk.NewID(), ProjectID: p.ID, Name: "New default", Routing: tiledesk.RoutingPooled,
		Default: true, Status: tiledesk.DepartmentVisible, CreatedBy: owner.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateDepartment(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, _ := s.FindDefaultDepartment(ctx, p.ID)
	if got.ID != d.ID {
		t.Fatalf("default = %s, want the new one %s", got.Name, d.Name)
	}
	old, _ := s.FindDepartmentByID(ctx, p.ID, def.ID)
	if old.Default {
		t.Fatal("the old default department is still default")
	}
	no := false
	_, err := s.UpdateDepartment(ctx, p.ID, d.ID, tiledesk.DepartmentUpdate{Default: &no})
	wantCode(t, err, tiledesk.EINVALID)
	yes := true
	if _, err := s.UpdateDepartment(ctx, p.ID, def.ID, tiledesk.DepartmentUpdate{Default: &yes}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FindDefaultDepartment(ctx, p.ID); got.ID != def.ID {
		t.Fatalf("default after switching back = %s", got.Name)
	}
}
