from django.urls import path

from . import views

app_name = "reports"
APPROVE, RETURN = {"decision": "approve"}, {"decision": "return"}
urlpatterns = [
    path("schedule/", views.schedule, name="schedule"),
    path("sal/", views.report_list, name="report-list"),
    path("sal/verify/", views.report_verify, name="report-verify"),
    path("sal/periods/<int:number>/new/", views.report_create, name="report-create"),
    path("sal/<int:pk>/", views.report_detail, name="report-detail"),
    path("sal/<int:pk>/sections/", views.report_sections, name="report-sections"),
    path("sal/<int:pk>/financial/", views.report_financial, name="report-financial"),
    path("sal/<int:pk>/sections/compile/", views.report_sections_compile, name="report-sections-compile"),
    path("sal/<int:pk>/approve/", views.report_approve, name="report-approve"),
    path("sal/<int:pk>/render/", views.report_render_retry, name="report-render-retry"),
    path("sal/<int:pk>/pdf/", views.report_pdf, name="report-pdf"),
    path("sal/<int:pk>/xlsx/", views.report_xlsx, name="report-xlsx"),
    path("contributions/", views.contribution_list, name="contribution-list"),
    path("contributions/periods/<int:number>/new/", views.contribution_create, name="contribution-create"),
    path("contributions/<int:pk>/", views.contribution_detail, name="contribution-detail"),
    path("contributions/<int:pk>/edit/", views.contribution_edit, name="contribution-edit"),
    path("contributions/<int:pk>/submit/", views.contribution_submit, name="contribution-submit"),
    path("contributions/<int:pk>/approve/", views.contribution_review, APPROVE, name="contribution-approve"),
    path("contributions/<int:pk>/return/", views.contribution_review, RETURN, name="contribution-return"),
]
