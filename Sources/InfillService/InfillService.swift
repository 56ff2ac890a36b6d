// InfillService: see DESIGN.md.
