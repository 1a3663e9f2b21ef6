from django.urls import path

from . import views

app_name = "finance"
urlpatterns = [
    path("finance/", views.overview, name="overview"),
    path("finance/budget/", views.budget_detail, name="budget"),
    path("finance/budget/<int:pk>/annex-iii.xlsx", views.budget_xlsx, name="budget-xlsx"),
    path("finance/budget/import/", views.budget_import, name="budget-import"),
    path("finance/statement.xlsx", views.statement_xlsx, name="statement-xlsx"),
    path("finance/payments/new/", views.payment_create, name="payment-create"),
    path("expenses/", views.expense_list, name="expense-list"),
    path("expenses/export.csv", views.expense_csv, name="expense-csv"),
    path("expenses/new/", views.expense_create, name="expense-create"),
    path("expenses/<int:pk>/", views.expense_detail, name="expense-detail"),
    path("expenses/<int:pk>/edit/", views.expense_edit, name="expense-edit"),
    path("expenses/<int:pk>/submit/", views.expense_submit, name="expense-submit"),
    path("expenses/<int:pk>/delete/", views.expense_delete, name="expense-delete"),
    path("expenses/<int:pk>/verify/", views.expense_review, {"decision": "verify"}, name="expense-verify"),
    path("expenses/<int:pk>/reject/", views.expense_review, {"decision": "reject"}, name="expense-reject"),
    path("expenses/<int:pk>/return/", views.expense_review, {"decision": "return"}, name="expense-return"),
    path("procurement/", views.procurement_list, name="procurement-list"),
    path("procurement/new/", views.procurement_create, name="procurement-create"),
    path("procurement/<int:pk>/edit/", views.procurement_edit, name="procurement-edit"),
    path("procurement/<int:pk>/delete/", views.procurement_delete, name="procurement-delete"),
    path("receipts/<int:pk>/", views.receipt_download, name="receipt-download"),
    path("receipts/<int:pk>/delete/", views.receipt_delete, name="receipt-delete"),
    path("timesheets/", views.timesheet_list, name="timesheet-list"),
    path("timesheets/new/", views.timesheet_create, name="timesheet-create"),
    path("timesheets/<int:pk>/", views.timesheet_detail, name="timesheet-detail"),
    path("timesheets/<int:pk>/edit/", views.timesheet_edit, name="timesheet-edit"),
    path("timesheets/<int:pk>/pdf/", views.timesheet_pdf, name="timesheet-pdf"),
    path("timesheets/<int:pk>/sign/", views.timesheet_sign, name="timesheet-sign"),
    path("timesheets/<int:pk>/declare/", views.timesheet_declare, name="timesheet-declare"),
]
